import type { Candidate, PolicyFactory } from "../policy.ts";

/** The index-th available member of the pool (0-based). */
function nthAvailable<C extends Candidate>(pool: readonly C[], index: number): C | undefined {
  let left = index;
  for (const u of pool) {
    if (!u.available) continue;
    if (left === 0) return u;
    left--;
  }
  return undefined;
}

/**
 * Two distinct random live upstreams, the less busy of them (the first drawn on a tie). Nearly as
 * good as least-connections, but without every hop herding onto the same momentarily idle upstream.
 */
export const powerOfTwo: PolicyFactory = {
  name: "power-of-two",
  summary: "the less busy of two random live upstreams: least-connections without the herding, when several hops share upstreams",
  options: {},
  create: (_params, deps) => ({
    select(pool) {
      let live = 0;
      for (const u of pool) if (u.available) live++;
      if (live <= 1) return nthAvailable(pool, 0);
      const i = Math.min(live - 1, Math.floor(deps.random() * live));
      const drawn = Math.min(live - 2, Math.floor(deps.random() * (live - 1)));
      const j = drawn >= i ? drawn + 1 : drawn;
      const a = nthAvailable(pool, i);
      const b = nthAvailable(pool, j);
      if (a === undefined || b === undefined) return a ?? b;
      return b.inflight < a.inflight ? b : a;
    },
  }),
};
