import { describe, expect, test } from "bun:test";
import { HASH_FUNCTIONS, HASH_NAMES, MAX_MODULUS, murmur3, normaliseKey, xxh32 } from "./hash-functions.ts";

const { quadratic } = HASH_FUNCTIONS;

/** The seed's formulas over BigInt, as the reference the fast modular arithmetic must match. */
const mod = (x: bigint, m: bigint) => ((x % m) + m) % m;
const refH = (i: bigint, m: bigint) => mod(i * i + 2n * i + 17n, m);
const refPhi = (i: bigint, j: bigint, m: bigint) => mod(i * i + j * j + 2n * j + 25n, m);

describe("the seed's quadratics", () => {
  test("H(i) = i² + 2i + 17 mod 512 for the seed's numbers", () => {
    // H(1) = 20, H(2) = 25, H(3) = 32, H(10) = 137, H(100) = 10217 = 19·512 + 489,
    // H(132574) (the seed's example R_id): 132575 ≡ 479, 479² = 229441 ≡ 65, + 16 = 81.
    expect([1, 2, 3, 10, 100, 132574].map((i) => quadratic.key(i, 512))).toEqual([20, 25, 32, 137, 489, 81]);
  });

  test("Φ(i, j) = i² + j² + 2j + 25 mod 512 with j from 0", () => {
    // Φ(1,0) = 26, Φ(1,8) = 1 + 64 + 16 + 25 = 106, Φ(2,0) = 29, Φ(3,8) = 9 + 64 + 16 + 25 = 114, Φ(20,3) = 400 + 40 = 440.
    expect([[1, 0], [1, 8], [2, 0], [3, 8], [20, 3]].map(([i = 0, j = 0]) => quadratic.server(i, j, 512))).toEqual([26, 106, 29, 114, 440]);
  });

  test("exact for every safe integer, negative ones and moduli that are not powers of two", () => {
    const keys = [0, 1, -1, -2, 2 ** 31, 2 ** 32 + 7, 2 ** 40 - 3, -(2 ** 45), Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER];
    for (const m of [512, 1000, 65537, MAX_MODULUS]) {
      for (const i of keys) {
        expect(quadratic.key(i, m)).toBe(Number(refH(BigInt(i), BigInt(m))));
        expect(quadratic.server(i, 7, m)).toBe(Number(refPhi(BigInt(i), 7n, BigInt(m))));
      }
    }
  });

  test("reach only 87 of 512 slots for requests: (i + 1)² takes few values modulo a power of two", () => {
    const slots = new Set<number>();
    for (let i = 1; i <= 10_000; i++) slots.add(quadratic.key(i, 512));
    expect(slots.size).toBe(87);
  });
});

describe("key normalisation", () => {
  test("fractions truncate toward zero; NaN and infinities are 0", () => {
    expect([2.9, -2.9, -0.5, Number.NaN, Number.POSITIVE_INFINITY].map(normaliseKey)).toEqual([2, -2, 0, 0, 0]);
    expect(quadratic.key(2.9, 512)).toBe(quadratic.key(2, 512));
    expect(quadratic.key(-0.5, 512)).toBe(17);
    expect(xxh32(Number.NaN)).toBe(xxh32(0));
  });

  test("strong hashes read the key as 8 little-endian bytes of its two's complement", () => {
    for (const i of [0, 1, -1, 2 ** 32, -(2 ** 40) + 5, Number.MAX_SAFE_INTEGER]) {
      const bytes = new Uint8Array(8);
      new DataView(bytes.buffer).setBigInt64(0, BigInt(i), true);
      expect(xxh32(i, 3)).toBe(Bun.hash.xxHash32(bytes, 3));
      expect(murmur3(i, 3)).toBe(Bun.hash.murmur32v3(bytes, 3));
    }
  });

  test("keys that differ only above 32 bits hash apart (the whole safe range counts)", () => {
    expect(xxh32(2 ** 32 + 5)).not.toBe(xxh32(5));
    expect(murmur3(-1)).not.toBe(murmur3(2 ** 32 - 1));
    expect(HASH_FUNCTIONS["poly-prime"].key(2 ** 33 + 1, 65537)).not.toBe(HASH_FUNCTIONS["poly-prime"].key(1, 65537));
  });
});

describe("every named function", () => {
  test("is in the table with a description, and gives slots in [0, M) for any key", () => {
    expect(HASH_NAMES).toEqual(["quadratic", "poly-prime", "xxh32", "murmur3"]);
    for (const name of HASH_NAMES) {
      const f = HASH_FUNCTIONS[name];
      expect(f.description.length).toBeGreaterThan(20);
      for (const m of [1, 7, 512, 65537]) {
        for (const i of [0, -1, 0.5, -123456, Number.MAX_SAFE_INTEGER, 1e300]) {
          for (const slot of [f.key(i, m), f.server(i, 3, m)]) {
            expect(Number.isInteger(slot) && slot >= 0 && slot < m).toBe(true);
          }
        }
      }
    }
  });

  test("the alternatives spread 10,000 consecutive keys over 512 slots (no slot above twice its share)", () => {
    for (const name of HASH_NAMES.filter((n) => n !== "quadratic")) {
      const counts = new Array<number>(512).fill(0);
      for (let i = 1; i <= 10_000; i++) counts[HASH_FUNCTIONS[name].key(i, 512)]!++;
      expect({ name, max: Math.max(...counts) <= (2 * 10_000) / 512 }).toEqual({ name, max: true });
      expect({ name, empty: counts.filter((c) => c === 0).length }).toEqual({ name, empty: 0 });
    }
  });

  test("the alternatives place 3 servers × 9 virtual servers on 27 distinct slots or nearly (few conflicts)", () => {
    for (const name of HASH_NAMES.filter((n) => n !== "quadratic")) {
      const slots = new Set<number>();
      for (let i = 1; i <= 3; i++) for (let j = 0; j < 9; j++) slots.add(HASH_FUNCTIONS[name].server(i, j, 512));
      expect(slots.size).toBeGreaterThanOrEqual(25);
    }
  });
});
