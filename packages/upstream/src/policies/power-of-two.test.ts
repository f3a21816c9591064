import { describe, expect, test } from "bun:test";
import { fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import { PolicyParams } from "./params.ts";
import { powerOfTwo } from "./power-of-two.ts";

runPolicyConformance(powerOfTwo);

describe("power-of-two", () => {
  test("never picks the most loaded of three when the other two are idle", () => {
    const pool = [fakeUpstream(1), fakeUpstream(2, true, 9), fakeUpstream(3)];
    const policy = makePolicy(powerOfTwo);
    const seen = new Set<number>();
    for (let i = 0; i < 3000; i++) seen.add(policy.select(pool, i)!.n);
    expect([...seen].sort()).toEqual([1, 3]);
  });

  test("draws two distinct upstreams and takes the less busy; on a tie the first drawn", () => {
    const pool = [fakeUpstream(1, true, 3), fakeUpstream(2, false), fakeUpstream(3, true, 1), fakeUpstream(4, true, 3)];
    const drawing = (...draws: number[]) => {
      let i = 0;
      return powerOfTwo.create(new PolicyParams("power-of-two"), { random: () => draws[i++] ?? 0, now: () => 0 });
    };
    // Live: 1, 3, 4. First draw 0 → 1; second 0 of the remaining two → 3 (fewer in flight).
    expect(drawing(0, 0).select(pool, 0)?.n).toBe(3);
    // First 1 and second 4 (distinct even when the second draw lands on the first's slot): tied, so 1.
    expect(drawing(0, 0.99).select(pool, 0)?.n).toBe(1);
    expect(drawing(0.99, 0).select(pool, 0)?.n).toBe(4);
  });

  test("with one live upstream, that one", () => {
    const pool = [fakeUpstream(1, false), fakeUpstream(2, true, 50)];
    expect(makePolicy(powerOfTwo).select(pool, 0)?.n).toBe(2);
  });

  test("the same seed gives the same picks, another seed others", () => {
    const run = (seed: number) => {
      const pool = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3), fakeUpstream(4), fakeUpstream(5)];
      const policy = makePolicy(powerOfTwo, "", seed);
      return Array.from({ length: 50 }, (_, i) => {
        const picked = policy.select(pool, i)!;
        picked.inflight++;
        return picked.n;
      });
    };
    expect(run(7)).toEqual(run(7));
    expect(run(7)).not.toEqual(run(8));
  });

  test("keeps load close to even when each pick adds a request", () => {
    const pool = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3), fakeUpstream(4)];
    const policy = makePolicy(powerOfTwo);
    for (let i = 0; i < 400; i++) policy.select(pool, i)!.inflight++;
    const loads = pool.map((u) => u.inflight);
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(3);
  });
});
