import type { Candidate, Policy } from "../policy.ts";

/**
 * The eligible member with the smallest n after `after`, else the smallest eligible n (wrapping).
 * Keyed by n rather than an index, so a pool that gained or lost members neither skips nor repeats one;
 * least-connections and least-loaded use it to spread ties.
 */
export function nextInTurn<C extends Candidate>(pool: readonly C[], after: number | undefined, eligible: (u: C) => boolean): C | undefined {
  let next: C | undefined;
  let first: C | undefined;
  for (const u of pool) {
    if (!eligible(u)) continue;
    if (first === undefined || u.n < first.n) first = u;
    if (after !== undefined && u.n > after && (next === undefined || u.n < next.n)) next = u;
  }
  return next ?? first;
}

/** The live upstream with the lowest score; ties in turn, so equal upstreams share the load. */
export function lowestInTurn(score: (u: Candidate) => number): Policy {
  let last: number | undefined;
  return {
    select(pool) {
      let lowest = Infinity;
      for (const u of pool) if (u.available) lowest = Math.min(lowest, score(u));
      const picked = nextInTurn(pool, last, (u) => u.available && score(u) === lowest);
      if (picked !== undefined) last = picked.n;
      return picked;
    },
  };
}
