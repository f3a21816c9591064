import { describe, expect, test } from "bun:test";
import { type FakeUpstream, fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import { UpstreamError } from "../errors.ts";
import type { Policy } from "../policy.ts";
import { consistentHash } from "./consistent-hash.ts";

runPolicyConformance(consistentHash);
runPolicyConformance(consistentHash, "probe=quadratic");
runPolicyConformance(consistentHash, "hash=xxh32,server-hash=xxh32");
runPolicyConformance(consistentHash, "slots=1024,vnodes=10,hash=murmur3,server-hash=poly-prime,probe=quadratic");
runPolicyConformance(consistentHash, "slots=16,vnodes=9");

const pool = (size: number) => Array.from({ length: size }, (_, i) => fakeUpstream(i + 1));
const KEYS = Array.from({ length: 10_000 }, (_, i) => i + 1);
const owners = (policy: Policy, p: FakeUpstream[]) => KEYS.map((k) => policy.select(p, k)?.n);

describe("consistent-hash", () => {
  test("by default it is the seed's ring: H(1) = 20 → server 1, H(3) = 32 → server 2, H(132574) = 81 → server 3, H(100) = 489 wraps to server 1", () => {
    const policy = makePolicy(consistentHash);
    expect([1, 3, 132574, 100].map((k) => policy.select(pool(3), k)?.n)).toEqual([1, 2, 3, 1]);
  });

  test("sticky: a key stays while its upstream lives, moves clockwise while it is down, and comes back", () => {
    const policy = makePolicy(consistentHash);
    const p = pool(3);
    expect(policy.select(p, 132574)?.n).toBe(3);
    p[2]!.available = false;
    expect(policy.select(p, 132574)?.n).toBe(1); // slot 82 is server 3's, the next (89) server 1's
    p[2]!.available = true;
    expect(policy.select(p, 132574)?.n).toBe(3);
  });

  test("when an upstream fails only its own keys move, and every one of them comes back", () => {
    const policy = makePolicy(consistentHash, "hash=xxh32,server-hash=xxh32");
    const p = pool(4);
    const before = owners(policy, p);
    p[1]!.available = false;
    const during = owners(policy, p);
    KEYS.forEach((_, i) => {
      if (before[i] !== 2) expect(during[i]).toBe(before[i]);
      else expect(during[i]).not.toBe(2);
    });
    p[1]!.available = true;
    expect(owners(policy, p)).toEqual(before);
  });

  test("with a strong hash, removing one of N upstreams moves about 1/N of the keys, nearly all of them its own", () => {
    for (const n of [3, 5, 8]) {
      const policy = makePolicy(consistentHash, "hash=xxh32,server-hash=xxh32");
      const before = owners(policy, pool(n));
      let moved = 0;
      let others = 0;
      for (let leaving = 1; leaving <= n; leaving++) {
        const after = owners(policy, pool(n).filter((u) => u.n !== leaving));
        KEYS.forEach((_, i) => {
          if (after[i] === before[i]) return;
          moved++;
          if (before[i] !== leaving) others++;
        });
      }
      // Averaged over which one leaves; "others" are keys displaced by a virtual server that no longer had to probe.
      const share = moved / n / KEYS.length;
      expect(share).toBeGreaterThan(0.9 / n);
      expect(share).toBeLessThan(1.1 / n);
      expect(others / n / KEYS.length).toBeLessThan(0.01);
    }
  });

  test("10,000 keys over 3 upstreams give each some load, even with the seed's clustering quadratics", () => {
    for (const spec of ["", "probe=quadratic", "hash=xxh32,server-hash=xxh32", "hash=poly-prime,server-hash=poly-prime"]) {
      const counts = new Map<number | undefined, number>();
      for (const n of owners(makePolicy(consistentHash, spec), pool(3))) counts.set(n, (counts.get(n) ?? 0) + 1);
      expect({ spec, servers: [...counts.keys()].sort() }).toEqual({ spec, servers: [1, 2, 3] });
      for (const count of counts.values()) expect(count).toBeGreaterThan(300);
    }
  });

  test("a strong hash balances far better than the seed's: the busiest of 3 upstreams has under 1.2× its share, not 2.5×", () => {
    const busiest = (spec: string) => {
      const counts = new Map<number | undefined, number>();
      for (const n of owners(makePolicy(consistentHash, spec), pool(3))) counts.set(n, (counts.get(n) ?? 0) + 1);
      return Math.max(...counts.values()) / (KEYS.length / 3);
    };
    expect(busiest("hash=xxh32,server-hash=xxh32")).toBeLessThan(1.2);
    expect(busiest("")).toBeGreaterThan(2.5);
  });

  test("the ring follows membership: after a change it answers as a fresh policy would", () => {
    const policy = makePolicy(consistentHash, "hash=xxh32,server-hash=xxh32");
    owners(policy, pool(5));
    const changed = [fakeUpstream(2), fakeUpstream(4), fakeUpstream(7)];
    expect(owners(policy, changed)).toEqual(owners(makePolicy(consistentHash, "hash=xxh32,server-hash=xxh32"), changed));
  });

  test("a pool with more upstreams × vnodes than slots gets fewer virtual servers; more upstreams than slots is an error", () => {
    // The seed's H reaches only 4 of 16 slots ((i + 1)² mod 16 is 0, 1, 4 or 9), so a strong hash shows all five serving.
    const policy = makePolicy(consistentHash, "slots=16,vnodes=9,hash=xxh32,server-hash=xxh32");
    const seen = new Set(owners(policy, pool(5)));
    expect([...seen].sort()).toEqual([1, 2, 3, 4, 5]);
    expect(() => policy.select(pool(17), 1)).toThrow(UpstreamError);
  });

  test("options it cannot use are refused when the policy is made", () => {
    for (const spec of ["hash=md5", "server-hash=sha1", "probe=cubic", "slots=0", "vnodes=0", "slots=many"]) {
      expect(() => makePolicy(consistentHash, spec)).toThrow(UpstreamError);
    }
  });
});
