import { UpstreamError } from "../errors.ts";
import { type HashFunction, MAX_MODULUS } from "./hash-functions.ts";

/** How a virtual server that lands on a taken slot looks further: +1, +2, +3, … or +1, +4, +9, … */
export type Probe = "linear" | "quadratic";
export const PROBES: readonly Probe[] = ["linear", "quadratic"];

export interface RingOptions {
  /** M: slots on the circle. */
  readonly slots: number;
  /** K: virtual servers per server; j runs 0..K-1 (the seed leaves the range open). */
  readonly vnodes: number;
  /** H: request key → slot. */
  readonly keyHash: HashFunction;
  /** Φ: (server id, j) → slot. */
  readonly serverHash: HashFunction;
  readonly probe: Probe;
}

/**
 * The consistent hash map of seeds/002 (Appendix B) as a pure data structure. Server i's virtual
 * server j goes to slot Φ(i, j) mod M; virtual servers are placed in order of (position, j), so on a
 * conflict the one placed earlier keeps the slot and the later one probes. A request goes to the
 * first virtual server at or clockwise after slot H(key) mod M, wrapping past M - 1 to 0.
 * Servers are identified by their position in `servers`, so callers map back to their own objects.
 */
export class Ring {
  /** slot → position in `servers`, -1 when empty. */
  private readonly owners: Int32Array;
  /** The taken slots, ascending: the clockwise order. */
  private readonly taken: Int32Array;
  /** position * K + j → slot. */
  private readonly placed: Int32Array;

  /** Throws UpstreamError("bad_policy") when servers × K exceeds M: some virtual server would have nowhere to go. */
  constructor(
    readonly servers: readonly number[],
    readonly options: RingOptions,
  ) {
    const { slots: m, vnodes: k } = options;
    if (!Number.isInteger(m) || m < 1 || m > MAX_MODULUS) throw new RangeError(`ring slots must be an integer from 1 to ${MAX_MODULUS}, not ${m}`);
    if (!Number.isInteger(k) || k < 1) throw new RangeError(`ring virtual servers must be a positive integer, not ${k}`);
    if (servers.length * k > m) {
      throw new UpstreamError("bad_policy", `consistent hash ring is full: ${servers.length} servers × ${k} virtual servers need ${servers.length * k} slots, it has ${m}`);
    }
    this.owners = new Int32Array(m).fill(-1);
    this.placed = new Int32Array(servers.length * k);
    servers.forEach((id, s) => {
      for (let j = 0; j < k; j++) {
        const slot = this.freeSlot(options.serverHash.server(id, j, m));
        this.owners[slot] = s;
        this.placed[s * k + j] = slot;
      }
    });
    this.taken = Int32Array.from(this.placed).sort();
  }

  /** Where virtual server j of the server at `position` ended up (after probing). */
  slotOf(position: number, j: number): number {
    return this.placed[position * this.options.vnodes + j]!;
  }

  /** The position of the server owning `slot`, or undefined for an empty slot. */
  ownerAt(slot: number): number | undefined {
    const owner = this.owners[slot] ?? -1;
    return owner < 0 ? undefined : owner;
  }

  /** H(key) mod M. */
  requestSlot(key: number): number {
    return this.options.keyHash.key(key, this.options.slots);
  }

  /**
   * The position of the server that serves `key`: the owner of the first virtual server at or
   * clockwise after its slot that `accept` takes (callers skip unavailable servers), or undefined.
   */
  lookup(key: number, accept: (position: number) => boolean = () => true): number | undefined {
    const taken = this.taken;
    const start = firstAtOrAfter(taken, this.requestSlot(key));
    for (let step = 0; step < taken.length; step++) {
      const owner = this.owners[taken[(start + step) % taken.length]!]!;
      if (accept(owner)) return owner;
    }
    return undefined;
  }

  /**
   * The home slot if free, else the first free slot the probe reaches. Quadratic probing visits
   * only the slots home + t² reaches (for M = 512 far from all of them), so when its M tries find
   * nothing it falls back to linear: a ring that is not full always takes the virtual server.
   */
  private freeSlot(home: number): number {
    const m = this.options.slots;
    if (this.options.probe === "quadratic") {
      for (let t = 0; t < m; t++) {
        const slot = (home + ((t * t) % m)) % m;
        if (this.owners[slot] === -1) return slot;
      }
    }
    for (let t = 0; t < m; t++) {
      const slot = (home + t) % m;
      if (this.owners[slot] === -1) return slot;
    }
    throw new Error("unreachable: the constructor checked the ring has room");
  }
}

/** The index of the first value ≥ slot in the ascending `taken`, or 0 (wrap around) when there is none. */
function firstAtOrAfter(taken: Int32Array, slot: number): number {
  let lo = 0;
  let hi = taken.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (taken[mid]! < slot) lo = mid + 1;
    else hi = mid;
  }
  return lo === taken.length ? 0 : lo;
}
