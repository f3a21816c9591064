import { describe, expect, test } from "bun:test";
import { type FakeUpstream, fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import { UpstreamError } from "../errors.ts";
import type { Policy } from "../policy.ts";
import { maglev, populate } from "./maglev.ts";

runPolicyConformance(maglev);
runPolicyConformance(maglev, "table=251");
runPolicyConformance(maglev, "table=655373");

const pool = (size: number) => Array.from({ length: size }, (_, i) => fakeUpstream(i + 1));
const KEYS = Array.from({ length: 10_000 }, (_, i) => i + 1);
const owners = (policy: Policy, p: FakeUpstream[]) => KEYS.map((k) => policy.select(p, k)?.n);

describe("maglev", () => {
  test("the table is balanced: for 3 to 10 upstreams each owns ⌊M/N⌋ or ⌈M/N⌉ entries (max/mean ≤ 1.01)", () => {
    for (let n = 3; n <= 10; n++) {
      const counts = new Array<number>(n).fill(0);
      for (const position of populate(pool(n), 65537)) counts[position]!++;
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      expect(Math.max(...counts) / (65537 / n)).toBeLessThanOrEqual(1.01);
    }
  });

  test("10,000 keys over 3 upstreams split within 3% of a third each", () => {
    const counts = new Map<number | undefined, number>();
    for (const n of owners(makePolicy(maglev), pool(3))) counts.set(n, (counts.get(n) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([1, 2, 3]);
    for (const count of counts.values()) expect(Math.abs(count / KEYS.length - 1 / 3)).toBeLessThan(0.03);
  });

  test("when one of N upstreams leaves, about 1/N of the keys move and under 2% of the others are disturbed", () => {
    for (const n of [3, 5, 10]) {
      const policy = makePolicy(maglev);
      const before = owners(policy, pool(n));
      for (let leaving = 1; leaving <= n; leaving++) {
        const after = owners(policy, pool(n).filter((u) => u.n !== leaving));
        let moved = 0;
        let others = 0;
        KEYS.forEach((_, i) => {
          if (after[i] === before[i]) return;
          moved++;
          if (before[i] !== leaving) others++;
        });
        expect(moved / KEYS.length).toBeGreaterThan(0.85 / n);
        expect(moved / KEYS.length).toBeLessThan(1.2 / n);
        expect(others / KEYS.length).toBeLessThan(0.02);
      }
    }
  });

  test("sticky: a key stays while its upstream lives, moves while it is down, and comes back when it returns", () => {
    const policy = makePolicy(maglev);
    const p = pool(4);
    const before = owners(policy, p);
    expect(owners(policy, p)).toEqual(before);
    p[2]!.available = false;
    const during = owners(policy, p);
    expect(during.filter((n, i) => before[i] === 3 && n !== 3).length).toBe(before.filter((n) => n === 3).length);
    p[2]!.available = true;
    expect(owners(policy, p)).toEqual(before);
  });

  test("a retry's view (the tried upstream unavailable) and the usual one alternate without changing answers", () => {
    const policy = makePolicy(maglev);
    const usual = pool(5);
    const retry = pool(5);
    retry[0]!.available = false;
    const first = [owners(policy, usual), owners(policy, retry)];
    for (let round = 0; round < 3; round++) expect([owners(policy, usual), owners(policy, retry)]).toEqual(first);
  });

  test("a table size that is not a prime is refused when the policy is made", () => {
    expect(() => makePolicy(maglev, "table=65536")).toThrow(UpstreamError);
    expect(() => makePolicy(maglev, "table=65536")).toThrow("must be a prime");
    expect(() => makePolicy(maglev, "table=2")).toThrow(UpstreamError);
  });
});
