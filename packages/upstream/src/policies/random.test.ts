import { describe, expect, test } from "bun:test";
import { fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import { PolicyParams } from "./params.ts";
import { random } from "./random.ts";

runPolicyConformance(random);

describe("random", () => {
  test("picks with the injected randomness among live upstreams only", () => {
    const p = [fakeUpstream(1), fakeUpstream(2, false), fakeUpstream(3)];
    const fixed = (r: number) => random.create(new PolicyParams("random"), { random: () => r, now: () => 0 });
    expect(fixed(0).select(p, 0)?.n).toBe(1);
    expect(fixed(0.99).select(p, 0)?.n).toBe(3);
  });

  test("spreads load evenly over every live upstream", () => {
    const p = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    const counts = new Map<number, number>();
    const policy = makePolicy(random);
    for (let i = 0; i < 3000; i++) {
      const n = policy.select(p, i)!.n;
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
    for (const n of [1, 2, 3]) expect(counts.get(n)).toBeGreaterThan(850);
  });
});
