import type { PolicyFactory } from "../policy.ts";

const MAX_WEIGHT = 1000;

/**
 * nginx's smooth weighted round robin: every live upstream's `current` grows by its weight, the largest
 * is picked and pays back the live total. Weights 5,1,1 give a a b a c a a rather than a a a a a b c.
 * State is keyed by n; a down upstream keeps its `current` untouched, so the others stay smooth.
 */
export const weightedRoundRobin: PolicyFactory = {
  name: "weighted-round-robin",
  summary: "round robin in proportion to per-upstream weights (1=5,2=1), interleaved smoothly: for upstreams of unequal capacity",
  options: {
    default: `weight of an upstream not given one, 1 to ${MAX_WEIGHT} (default 1)`,
    "<n>": `weight of upstream n, e.g. 1=5,2=1, 1 to ${MAX_WEIGHT} (default: the default option)`,
  },
  create: (params) => {
    const fallback = params.int("default", 1, 1, MAX_WEIGHT);
    const weights = params.perUpstream(1, MAX_WEIGHT);
    const current = new Map<number, number>();
    return {
      select(pool) {
        let total = 0;
        let best: (typeof pool)[number] | undefined;
        let bestCurrent = 0;
        for (const u of pool) {
          if (!u.available) continue;
          const weight = weights.get(u.n) ?? fallback;
          const value = (current.get(u.n) ?? 0) + weight;
          current.set(u.n, value);
          total += weight;
          if (best === undefined || value > bestCurrent) {
            best = u;
            bestCurrent = value;
          }
        }
        if (best === undefined) return undefined;
        current.set(best.n, bestCurrent - total);
        // Forget upstreams no longer configured, so a long-lived policy does not accumulate them.
        if (current.size > pool.length) {
          const members = new Set(pool.map((u) => u.n));
          for (const n of current.keys()) if (!members.has(n)) current.delete(n);
        }
        return best;
      },
    };
  },
};
