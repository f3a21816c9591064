// The hashing policies computed straight from their code, without a fleet: how keys spread over N
// upstreams, how many move when one leaves, and where the seed's ring puts keys and virtual
// servers. The analysis puts these beside what the fleets measured; scripts/hash-report.ts prints them.
import { seededRandom } from "@switchyard/testing/random";
import { createPolicy } from "../../packages/upstream/src/policies/index.ts";
import { HASH_FUNCTIONS, type HashName } from "../../packages/upstream/src/policies/hash-functions.ts";
import { Ring } from "../../packages/upstream/src/policies/ring.ts";
import type { Candidate, PolicyDeps } from "../../packages/upstream/src/policy.ts";

export interface Spread {
  /** Keys per upstream, upstream n at index n - 1. */
  readonly counts: number[];
  /** The busiest upstream's keys over the average (1.00 is perfect balance). */
  readonly maxMean: number;
  /** Coefficient of variation: population standard deviation over the mean. */
  readonly cv: number;
}

export interface Measure extends Spread {
  /** Share of keys whose upstream changes when one upstream leaves, averaged over which one leaves (1/N is the least possible). */
  readonly moved: number;
}

/** The hashing policies use neither randomness nor time. */
const DEPS: PolicyDeps = { random: () => 0, now: () => 0 };

/** Repeatable 6-digit request ids, like the seed's R_id. */
export function requestIds(count: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => 100_000 + Math.floor(random() * 900_000));
}

/** max/mean and cv of per-upstream counts. */
export function spread(counts: readonly number[]): Spread {
  const mean = counts.reduce((a, b) => a + b, 0) / counts.length;
  const variance = counts.reduce((sum, c) => sum + (c - mean) ** 2, 0) / counts.length;
  return { counts: [...counts], maxMean: Math.max(...counts) / mean, cv: Math.sqrt(variance) / mean };
}

/** `spec` (e.g. "consistent-hash:hash=xxh32") over upstreams 1..n, all available, for `keys`. */
export function measurePolicy(spec: string, n: number, keys: readonly number[]): Measure {
  const policy = createPolicy(spec, DEPS);
  const pool: Candidate[] = Array.from({ length: n }, (_, i) => ({ n: i + 1, available: true, inflight: 0, load: undefined }));
  const before = keys.map((k) => policy.select(pool, k)?.n ?? 0);
  const counts = new Array<number>(n).fill(0);
  for (const owner of before) counts[owner - 1]!++;
  let moved = 0;
  for (const leaving of pool) {
    const rest = pool.filter((u) => u !== leaving);
    keys.forEach((k, i) => {
      if (policy.select(rest, k)?.n !== before[i]) moved++;
    });
  }
  return { ...spread(counts), moved: moved / n / keys.length };
}

/** Where a ring of servers 1..n puts keys and virtual servers (M slots, K virtual servers each, linear probing). */
export interface RingPicture {
  readonly slots: number;
  /** The distinct slots H(key) takes over `keys`. */
  readonly keySlots: number;
  /** Keys per slot. */
  readonly keysAt: number[];
  /** Every virtual server: its server and the slot it got. */
  readonly vnodes: Array<{ server: number; j: number; slot: number }>;
  /** Slots owned by each server (its arcs: from after the previous virtual server to its own, wrapping). */
  readonly arcs: number[];
}

export function ringPicture(hash: HashName, n: number, keys: readonly number[], slots = 512, vnodes = 9): RingPicture {
  const fn = HASH_FUNCTIONS[hash];
  const servers = Array.from({ length: n }, (_, i) => i + 1);
  const ring = new Ring(servers, { slots, vnodes, keyHash: fn, serverHash: fn, probe: "linear" });
  const keysAt = new Array<number>(slots).fill(0);
  for (const key of keys) keysAt[ring.requestSlot(key)]!++;
  const placed = servers.flatMap((server, p) => Array.from({ length: vnodes }, (_, j) => ({ server, j, slot: ring.slotOf(p, j) })));
  const arcs = new Array<number>(n).fill(0);
  // A slot belongs to the first virtual server at or clockwise after it.
  const sorted = [...placed].sort((a, b) => a.slot - b.slot);
  let previous = sorted[sorted.length - 1]!.slot - slots;
  for (const v of sorted) {
    arcs[v.server - 1]! += v.slot - previous;
    previous = v.slot;
  }
  return { slots, keySlots: keysAt.filter((c) => c > 0).length, keysAt, vnodes: placed, arcs };
}
