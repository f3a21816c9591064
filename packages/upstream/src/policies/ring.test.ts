import { describe, expect, test } from "bun:test";
import { UpstreamError } from "../errors.ts";
import { HASH_FUNCTIONS } from "./hash-functions.ts";
import { type Probe, Ring } from "./ring.ts";

const seedRing = (servers: number[], probe: Probe = "linear", slots = 512, vnodes = 9) =>
  new Ring(servers, { slots, vnodes, keyHash: HASH_FUNCTIONS.quadratic, serverHash: HASH_FUNCTIONS.quadratic, probe });

/** Where each virtual server of each server ended up, one row per server. */
const placement = (ring: Ring) => ring.servers.map((_, s) => Array.from({ length: ring.options.vnodes }, (_, j) => ring.slotOf(s, j)));

describe("the seed's worked example: servers 1..3, K = 9, M = 512", () => {
  // Φ(i, j) = i² + (j + 1)² + 24: server 1 at (j+1)² + 25, server 2 at (j+1)² + 28, server 3 at (j+1)² + 33.
  //   server 1: 26 29 34 41 50 61 74 89 106 (placed first, no conflict)
  //   server 2: Φ(2,0) = 29 is server 1's j=1 → probe 30; then 32 37 44 53 64 77 92 109
  //   server 3: Φ(3,0) = 34 is server 1's j=2 → 35; Φ(3,1) = 37 is server 2's j=2 → 38; then 42 49 58 69 82 97 114
  const expected = [
    [26, 29, 34, 41, 50, 61, 74, 89, 106],
    [30, 32, 37, 44, 53, 64, 77, 92, 109],
    [35, 38, 42, 49, 58, 69, 82, 97, 114],
  ];

  test("linear probing puts each conflicting virtual server in the next free slot", () => {
    expect(placement(seedRing([1, 2, 3]))).toEqual(expected);
  });

  test("quadratic probing agrees here: each conflict's first probe (+1) is free", () => {
    expect(placement(seedRing([1, 2, 3], "quadratic"))).toEqual(expected);
  });

  test("with a 4th server the probes part: linear takes the next free slot, quadratic jumps +1, +4, +9, +16", () => {
    // Φ(4,j) = (j+1)² + 40. Φ(4,0) = 41 (server 1) → linear: 42 (server 3) → 43; quadratic: 42 taken → 41+4 = 45.
    // Φ(4,1) = 44 (server 2) → linear 45; quadratic: 45 is now server 4's own j=0 → 44+4 = 48.
    // Φ(4,2) = 49 (server 3) → linear: 50 (server 1) → 51; quadratic: 50, 53 (server 2), 58 (server 3) taken → 49+16 = 65.
    // Φ(4,4) = 65: free for linear; quadratic took it for j=2, so 66.
    expect(placement(seedRing([1, 2, 3, 4]))[3]).toEqual([43, 45, 51, 56, 65, 76, 90, 104, 121]);
    expect(placement(seedRing([1, 2, 3, 4], "quadratic"))[3]).toEqual([45, 48, 65, 56, 66, 76, 90, 104, 121]);
  });

  test("requests land on H(i) mod 512 and go to the first virtual server clockwise", () => {
    const ring = seedRing([1, 2, 3]);
    // H(1) = 20 → slot 26 (server 1); H(3) = 32 is server 2's own slot; H(132574) = 81 → 82 (server 3, j=6).
    expect([1, 3, 132574].map((k) => ring.requestSlot(k))).toEqual([20, 32, 81]);
    expect([1, 3, 132574].map((k) => ring.servers[ring.lookup(k)!])).toEqual([1, 2, 3]);
  });

  test("past the last virtual server (slot 114) a request wraps around to slot 26", () => {
    const ring = seedRing([1, 2, 3]);
    // H(100) = 489 and H(10) = 137: nothing at or after them, so both go to slot 26, server 1.
    expect([100, 10].map((k) => ring.servers[ring.lookup(k)!])).toEqual([1, 1]);
    expect(ring.ownerAt(26)).toBe(0);
    expect(ring.ownerAt(27)).toBeUndefined();
  });

  test("the walk skips servers the caller refuses, wrapping too", () => {
    const ring = seedRing([1, 2, 3]);
    const not = (server: number) => (position: number) => ring.servers[position] !== server;
    // H(1) = 20: 26 and 29 are server 1's, 30 is server 2's.
    expect(ring.servers[ring.lookup(1, not(1))!]).toBe(2);
    // H(100) = 489 wraps to 26, 29 (server 1), then 30 (server 2).
    expect(ring.servers[ring.lookup(100, not(1))!]).toBe(2);
    // H(132574) = 81 → 82 is server 3's; next 89 is server 1's.
    expect(ring.servers[ring.lookup(132574, not(3))!]).toBe(1);
    expect(ring.lookup(1, () => false)).toBeUndefined();
  });
});

describe("a full ring", () => {
  test("more virtual servers than slots is refused when the ring is built, naming both numbers", () => {
    const build = () => seedRing([1, 2, 3], "linear", 26);
    expect(build).toThrow(UpstreamError);
    expect(build).toThrow("3 servers × 9 virtual servers need 27 slots, it has 26");
  });

  test("exactly as many virtual servers as slots fills every slot, also with quadratic probing", () => {
    // Modulo 8, t² is only 0, 1 or 4: quadratic probing alone would leave slots it never reaches.
    for (const probe of ["linear", "quadratic"] as const) {
      const ring = seedRing([1, 2], probe, 8, 4);
      expect(placement(ring).flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    }
  });

  test("an empty ring serves nobody", () => {
    expect(seedRing([]).lookup(5)).toBeUndefined();
  });
});
