import { UpstreamError } from "../errors.ts";
import type { Candidate, PolicyFactory } from "../policy.ts";
import { murmur3, xxh32 } from "./hash-functions.ts";

/** The seed of the key hash, so it shares nothing with the two hashes that place the upstreams. */
const KEY_SEED = 0x6d61676c;
/** Tables kept for recently seen states (a 65537-entry table takes a few milliseconds to build). */
const RECENT_TABLES = 4;

/**
 * Google's Maglev (NSDI 2016): a lookup table of prime size filled from one permutation per
 * upstream (offset and skip from two hashes of its n), taking turns, so every available upstream
 * owns ⌊M/N⌋ or ⌈M/N⌉ entries and a change of the set moves few keys. The table is built over the
 * available upstreams, as Maglev is, and rebuilt only when membership or availability changes (to a
 * state not among the few seen last).
 */
export const maglev: PolicyFactory = {
  name: "maglev",
  summary: "Google's Maglev lookup table: even shares and few keys moved when an upstream leaves or returns",
  options: { table: "M, lookup table entries, a prime well above 100 × upstreams (default 65537)" },
  create(params) {
    const size = params.int("table", 65537, 3, 16_777_213);
    if (!isPrime(size)) throw new UpstreamError("bad_policy", `policy maglev: table must be a prime, not ${size} (e.g. 65537, 655373)`);

    // A few recent tables, not one: a retry sees the pool with the upstreams it tried marked
    // unavailable, and alternating between that view and the usual one must not rebuild each time.
    const recent: Built[] = [];
    const tableFor = (pool: readonly Candidate[]): Int32Array => {
      const first = recent[0];
      if (first !== undefined && sameState(pool, first)) return first.entries;
      const hit = recent.findIndex((b) => sameState(pool, b));
      const built = hit >= 0 ? recent.splice(hit, 1)[0]! : { members: pool.map((u) => u.n), live: pool.map((u) => u.available), entries: populate(pool, size) };
      recent.unshift(built);
      if (recent.length > RECENT_TABLES) recent.pop();
      return built.entries;
    };

    return {
      select(pool, key) {
        const entries = tableFor(pool);
        if (entries.length === 0) return undefined;
        return pool[entries[xxh32(key, KEY_SEED) % size]!];
      },
    };
  },
};

/** A table and the membership and availability it was built for. */
interface Built {
  readonly members: readonly number[];
  readonly live: readonly boolean[];
  readonly entries: Int32Array;
}

/** Whether the pool has the members and availability the table was built for (no allocation per request). */
function sameState(pool: readonly Candidate[], built: Built): boolean {
  if (pool.length !== built.members.length) return false;
  for (let i = 0; i < pool.length; i++) if (pool[i]!.n !== built.members[i] || pool[i]!.available !== built.live[i]) return false;
  return true;
}

/** The Maglev table: entry → position in `pool` of an available member; empty when none is available. */
export function populate(pool: readonly Candidate[], size: number): Int32Array {
  const live: number[] = [];
  pool.forEach((u, position) => {
    if (u.available) live.push(position);
  });
  if (live.length === 0) return new Int32Array(0);
  const next = live.map((p) => murmur3(pool[p]!.n) % size);
  const skip = live.map((p) => (xxh32(pool[p]!.n) % (size - 1)) + 1);
  const entries = new Int32Array(size).fill(-1);
  for (let filled = 0; ; ) {
    for (let b = 0; b < live.length; b++) {
      let c = next[b]!;
      while (entries[c] !== -1) c = (c + skip[b]!) % size;
      entries[c] = live[b]!;
      next[b] = (c + skip[b]!) % size;
      if (++filled === size) return entries;
    }
  }
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
