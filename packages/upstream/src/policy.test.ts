import { describe, expect, test } from "bun:test";
import { fakeUpstream, runPolicyConformance } from "./conformance.ts";
import { clientIdPolicy, randomPolicy } from "./policy.ts";

runPolicyConformance("client-id", clientIdPolicy);
runPolicyConformance("random", () => randomPolicy());

describe("client-id", () => {
  const pool = () => [fakeUpstream(1), fakeUpstream(2)];

  test("odd clients go to the first upstream, even ones to the second (the seed rule)", () => {
    const p = pool();
    expect(clientIdPolicy().select(p, 107)?.n).toBe(1);
    expect(clientIdPolicy().select(p, 101)?.n).toBe(1);
    expect(clientIdPolicy().select(p, 112)?.n).toBe(2);
  });

  test("generalises to (id-1) mod P", () => {
    const p = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    expect([1, 2, 3, 4, 5, 6].map((id) => clientIdPolicy().select(p, id)?.n)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  test("when the chosen upstream is down, the next live one in order takes over, and the client comes back after", () => {
    const p = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    p[0]!.setAvailable(false);
    expect(clientIdPolicy().select(p, 1)?.n).toBe(2);
    p[1]!.setAvailable(false);
    expect(clientIdPolicy().select(p, 1)?.n).toBe(3);
    p[0]!.setAvailable(true);
    expect(clientIdPolicy().select(p, 1)?.n).toBe(1);
  });
});

describe("random", () => {
  test("picks with the injected randomness among live upstreams only", () => {
    const p = [fakeUpstream(1), fakeUpstream(2, false), fakeUpstream(3)];
    expect(randomPolicy(() => 0).select(p, 0)?.n).toBe(1);
    expect(randomPolicy(() => 0.99).select(p, 0)?.n).toBe(3);
  });

  test("spreads load over every live upstream", () => {
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const p = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    const counts = new Map<number, number>();
    const policy = randomPolicy(rand);
    for (let i = 0; i < 3000; i++) {
      const n = policy.select(p, i)!.n;
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    for (const n of [1, 2, 3]) expect(counts.get(n)).toBeGreaterThan(800);
  });
});
