import { describe, expect, test } from "bun:test";
import { type FakeUpstream, fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import type { Policy } from "../policy.ts";
import { ipHash } from "./ip-hash.ts";

runPolicyConformance(ipHash);

const pool = (size: number) => Array.from({ length: size }, (_, i) => fakeUpstream(i + 1));
const KEYS = Array.from({ length: 10_000 }, (_, i) => i + 1);
const owners = (policy: Policy, p: FakeUpstream[]) => KEYS.map((k) => policy.select(p, k)?.n);

describe("ip-hash", () => {
  test("10,000 clients over 3 upstreams split within 3% of a third each", () => {
    const counts = new Map<number | undefined, number>();
    for (const n of owners(makePolicy(ipHash), pool(3))) counts.set(n, (counts.get(n) ?? 0) + 1);
    expect([...counts.keys()].sort()).toEqual([1, 2, 3]);
    for (const count of counts.values()) expect(Math.abs(count / KEYS.length - 1 / 3)).toBeLessThan(0.03);
  });

  test("sticky: when an upstream fails only its clients move, spread over the others, and all come back", () => {
    const policy = makePolicy(ipHash);
    const p = pool(4);
    const before = owners(policy, p);
    p[1]!.available = false;
    const during = owners(policy, p);
    const movedTo = new Set<number | undefined>();
    KEYS.forEach((_, i) => {
      if (before[i] !== 2) expect(during[i]).toBe(before[i]);
      else movedTo.add(during[i]);
    });
    expect([...movedTo].sort()).toEqual([1, 3, 4]);
    p[1]!.available = true;
    expect(owners(policy, p)).toEqual(before);
  });

  test("with one upstream left out of many, every client still finds it (the walk after 20 rehashes)", () => {
    const p = pool(64).map((u) => ({ ...u, available: u.n === 17 }));
    const policy = makePolicy(ipHash);
    for (const key of KEYS.slice(0, 500)) expect(policy.select(p, key)?.n).toBe(17);
  });

  test("like nginx it hashes onto positions: removing one of 5 upstreams moves most clients (choose consistent-hash or maglev for that)", () => {
    const policy = makePolicy(ipHash);
    const before = owners(policy, pool(5));
    const after = owners(policy, pool(5).filter((u) => u.n !== 5));
    const moved = KEYS.filter((_, i) => after[i] !== before[i]).length / KEYS.length;
    expect(moved).toBeGreaterThan(0.7);
  });
});
