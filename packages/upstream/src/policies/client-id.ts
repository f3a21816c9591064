import type { PolicyFactory } from "../policy.ts";

/** The seed rule: client k goes to upstream (k-1) mod P in order of n; when that one is down, the next live one. */
export const clientId: PolicyFactory = {
  name: "client-id",
  summary: "client k to upstream (k-1) mod P, the next live one when it is down (the seed's rule; the load balancer's default)",
  options: {},
  create: () => ({
    select(pool, key) {
      const size = pool.length;
      if (size === 0) return undefined;
      const start = (((Math.trunc(key) - 1) % size) + size) % size;
      for (let i = 0; i < size; i++) {
        const candidate = pool[(start + i) % size]!;
        if (candidate.available) return candidate;
      }
      return undefined;
    },
  }),
};
