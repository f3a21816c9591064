import { describe, expect, test } from "bun:test";
import { fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import { clientId } from "./client-id.ts";

runPolicyConformance(clientId);

describe("client-id", () => {
  const policy = () => makePolicy(clientId);

  test("odd clients go to the first upstream, even ones to the second (the seed rule)", () => {
    const p = [fakeUpstream(1), fakeUpstream(2)];
    expect([107, 101, 112].map((k) => policy().select(p, k)?.n)).toEqual([1, 1, 2]);
  });

  test("generalises to (id-1) mod P", () => {
    const p = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    expect([1, 2, 3, 4, 5, 6].map((id) => policy().select(p, id)?.n)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  test("when the chosen upstream is down, the next live one in order takes over, and the client comes back after", () => {
    const p = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    p[0]!.available = false;
    expect(policy().select(p, 1)?.n).toBe(2);
    p[1]!.available = false;
    expect(policy().select(p, 1)?.n).toBe(3);
    p[0]!.available = true;
    expect(policy().select(p, 1)?.n).toBe(1);
  });
});
