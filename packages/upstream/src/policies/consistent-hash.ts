import type { Candidate, PolicyFactory } from "../policy.ts";
import { HASH_FUNCTIONS, HASH_NAMES, MAX_MODULUS } from "./hash-functions.ts";
import { PROBES, Ring, type RingOptions } from "./ring.ts";

/**
 * The ring of seeds/002 over every configured upstream, available or not, so a key keeps its
 * upstream while that one lives, walks clockwise past it while it is down and comes back when it
 * returns (sticky sessions). The ring is rebuilt only when the membership (the sequence of n) changes.
 */
export const consistentHash: PolicyFactory = {
  name: "consistent-hash",
  summary: "the seeds/002 hash ring: a key stays on its upstream while it lives and comes back after a failure (sticky sessions)",
  options: {
    slots: `M, slots on the ring, 1 to ${MAX_MODULUS} (default 512)`,
    vnodes: "K, virtual servers per upstream (default 9 = log2 512; fewer for a pool where upstreams × K exceeds slots)",
    hash: `request hash H: ${HASH_NAMES.join(", ")} (default quadratic, the seed's i² + 2i + 17)`,
    "server-hash": `virtual server hash Φ, same choices (default quadratic, the seed's i² + j² + 2j + 25)`,
    probe: `${PROBES.join(" (default) or ")}: where a virtual server goes when its slot is taken`,
  },
  create(params) {
    const slots = params.int("slots", 512, 1, MAX_MODULUS);
    const vnodes = params.int("vnodes", 9, 1, 4096);
    const keyHash = HASH_FUNCTIONS[params.choice("hash", HASH_NAMES, "quadratic")];
    const serverHash = HASH_FUNCTIONS[params.choice("server-hash", HASH_NAMES, "quadratic")];
    const probe = params.choice("probe", PROBES, "linear");

    let members: number[] = [];
    let ring: Ring | undefined;
    const ringFor = (pool: readonly Candidate[]): Ring => {
      if (ring !== undefined && sameMembers(pool, members)) return ring;
      const next = pool.map((u) => u.n);
      // A grown pool keeps working with fewer virtual servers; only more upstreams than slots is refused.
      const options: RingOptions = { slots, vnodes: Math.max(1, Math.min(vnodes, Math.floor(slots / next.length))), keyHash, serverHash, probe };
      ring = new Ring(next, options);
      members = next;
      return ring;
    };

    return {
      select(pool, key) {
        const position = ringFor(pool).lookup(key, (p) => pool[p]!.available);
        return position === undefined ? undefined : pool[position];
      },
    };
  },
};

function sameMembers(pool: readonly Candidate[], members: readonly number[]): boolean {
  if (pool.length !== members.length) return false;
  for (let i = 0; i < pool.length; i++) if (pool[i]!.n !== members[i]) return false;
  return true;
}
