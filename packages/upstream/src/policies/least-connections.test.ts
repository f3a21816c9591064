import { describe, expect, test } from "bun:test";
import { fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import { leastConnections } from "./least-connections.ts";

runPolicyConformance(leastConnections);

describe("least-connections", () => {
  test("sends to the idle upstream while the others are busy", () => {
    const pool = [fakeUpstream(1, true, 4), fakeUpstream(2, true, 0), fakeUpstream(3, true, 2)];
    const policy = makePolicy(leastConnections);
    for (let i = 0; i < 5; i++) expect(policy.select(pool, i)?.n).toBe(2);
  });

  test("ignores a down upstream even when it is the idlest", () => {
    const pool = [fakeUpstream(1, false, 0), fakeUpstream(2, true, 3), fakeUpstream(3, true, 1)];
    expect(makePolicy(leastConnections).select(pool, 0)?.n).toBe(3);
  });

  test("spreads ties in turn, so at low concurrency the first upstream does not get everything", () => {
    const pool = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    const policy = makePolicy(leastConnections);
    expect(Array.from({ length: 6 }, () => policy.select(pool, 0)?.n)).toEqual([1, 2, 3, 1, 2, 3]);
    pool[1]!.inflight = 1;
    expect(Array.from({ length: 4 }, () => policy.select(pool, 0)?.n)).toEqual([1, 3, 1, 3]);
  });

  test("keeps in-flight counts level when each pick adds a request", () => {
    const pool = [fakeUpstream(1, true, 5), fakeUpstream(2), fakeUpstream(3, true, 2)];
    const policy = makePolicy(leastConnections);
    for (let i = 0; i < 30; i++) policy.select(pool, i)!.inflight++;
    expect(pool.map((u) => u.inflight)).toEqual([12, 12, 13]);
  });
});
