import type { Upstream } from "./pool.ts";

/** A policy only chooses, reading availability that the connections maintain (DESIGN §6). */
export interface Policy {
  select(pool: readonly Upstream[], key: number): Upstream | undefined;
}

/** The seed rule: client k goes to upstream (k-1) mod P; when that one is down, the next live one in order. */
export function clientIdPolicy(): Policy {
  return {
    select(pool, key) {
      const size = pool.length;
      if (size === 0) return undefined;
      const start = (((key - 1) % size) + size) % size;
      for (let i = 0; i < size; i++) {
        const candidate = pool[(start + i) % size]!;
        if (candidate.peer.available) return candidate;
      }
      return undefined;
    },
  };
}

/** A uniformly random live upstream (the seed's server choice); randomness is injected for tests. */
export function randomPolicy(random: () => number = Math.random): Policy {
  return {
    select(pool) {
      let live = 0;
      for (const u of pool) if (u.peer.available) live++;
      if (live === 0) return undefined;
      let pick = Math.floor(random() * live);
      for (const u of pool) {
        if (!u.peer.available) continue;
        if (pick === 0) return u;
        pick--;
      }
      return undefined;
    },
  };
}
