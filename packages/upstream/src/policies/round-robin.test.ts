import { describe, expect, test } from "bun:test";
import { type FakeUpstream, fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import type { Policy } from "../policy.ts";
import { roundRobin } from "./round-robin.ts";

runPolicyConformance(roundRobin);

describe("round-robin", () => {
  const picks = (policy: Policy, pool: FakeUpstream[], count: number) => Array.from({ length: count }, () => policy.select(pool, 0)?.n);

  test("visits every upstream in turn, whatever the key", () => {
    const pool = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    const policy = makePolicy(roundRobin);
    expect([7, 7, 7, 7, 7, 7].map((key) => policy.select(pool, key)?.n)).toEqual([1, 2, 3, 1, 2, 3]);
  });

  test("skips a down upstream, and includes it again in its turn when it is back", () => {
    const pool = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    const policy = makePolicy(roundRobin);
    expect(picks(policy, pool, 1)).toEqual([1]);
    pool[1]!.available = false;
    expect(picks(policy, pool, 4)).toEqual([3, 1, 3, 1]);
    pool[1]!.available = true;
    expect(picks(policy, pool, 3)).toEqual([2, 3, 1]);
  });

  test("continues after the last pick when the pool changes, rather than from a stale index", () => {
    const policy = makePolicy(roundRobin);
    expect(picks(policy, [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3), fakeUpstream(4)], 3)).toEqual([1, 2, 3]);
    // Upstream 1 removed: an index would now point past 4 to 2, skipping it; by n, 4 is next.
    expect(picks(policy, [fakeUpstream(2), fakeUpstream(3), fakeUpstream(4)], 3)).toEqual([4, 2, 3]);
    // Upstream 5 added after the last pick (3): it comes before wrapping.
    expect(picks(policy, [fakeUpstream(2), fakeUpstream(3), fakeUpstream(5)], 3)).toEqual([5, 2, 3]);
  });
});
