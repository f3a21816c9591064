import type { PolicyFactory } from "../policy.ts";
import { xxh32 } from "./hash-functions.ts";

/** As nginx: after this many rehashes that hit unavailable upstreams, walk the pool instead. */
const REHASHES = 20;

/**
 * nginx's ip_hash with a strong hash: the key (a hash of the client address, or the client id of a
 * wire client) picks position xxh32(key) mod P among all configured upstreams. When that one is
 * down, the key is rehashed with the next seed, like nginx, then walked in order of n, so a key's
 * choices depend only on the key and the pool: it stays while its upstream lives and comes back
 * after. Like nginx it hashes onto positions, so adding or removing an upstream moves most keys
 * (consistent-hash and maglev do not).
 */
export const ipHash: PolicyFactory = {
  name: "ip-hash",
  summary: "nginx's ip_hash: the same client to the same upstream while it lives, the next by rehashing while it is down",
  options: {},
  create: () => ({
    select(pool, key) {
      const size = pool.length;
      if (size === 0) return undefined;
      for (let attempt = 0; attempt < REHASHES; attempt++) {
        const candidate = pool[xxh32(key, attempt) % size]!;
        if (candidate.available) return candidate;
      }
      const start = xxh32(key, 0) % size;
      for (let i = 1; i < size; i++) {
        const candidate = pool[(start + i) % size]!;
        if (candidate.available) return candidate;
      }
      return undefined;
    },
  }),
};
