import type { PolicyFactory } from "../policy.ts";

/** A uniformly random live upstream (the seed's server choice). */
export const random: PolicyFactory = {
  name: "random",
  summary: "a uniformly random live upstream (the seed's server choice; the proxies' default): no state, no coordination",
  options: {},
  create: (_params, deps) => ({
    select(pool) {
      let live = 0;
      for (const u of pool) if (u.available) live++;
      if (live === 0) return undefined;
      let pick = Math.min(live - 1, Math.floor(deps.random() * live));
      for (const u of pool) {
        if (!u.available) continue;
        if (pick === 0) return u;
        pick--;
      }
      return undefined;
    },
  }),
};
