/**
 * The hash functions a consistent hash ring can use, by name: the seed's quadratics (seeds/002
 * Task 2) and stronger alternatives for its Task 4 ("modify the hash functions").
 *
 * Keys are normalised first: truncated toward zero, NaN and ±Infinity become 0. The polynomials
 * are then computed exactly over the integers, modulo the slot count (modular arithmetic, so
 * i up to 2^53 and negative i give what the formula gives); the strong hashes read the integer as
 * 8 bytes, its 64-bit two's complement little-endian, so every safe integer hashes its own bytes.
 */

/** One named pair: H for request keys and Φ for virtual servers, each giving a slot in [0, m). */
export interface HashFunction {
  /** One line for --help and the report. */
  readonly description: string;
  /** H(i) mod m: where request key i lands. */
  key(i: number, m: number): number;
  /** Φ(i, j) mod m: where virtual server j of server i is placed. */
  server(i: number, j: number, m: number): number;
}

/** The largest modulus the polynomials stay exact for: every residue squared stays below 2^48. */
export const MAX_MODULUS = 2 ** 24;

/** The integer a key stands for: truncated toward zero (-0 is 0); NaN and ±Infinity are 0. */
export function normaliseKey(key: number): number {
  return Number.isFinite(key) ? Math.trunc(key) + 0 : 0;
}

/** x mod m in [0, m) for an integer-valued x (`%` on doubles is exact; `+ 0` turns -0 into 0). */
function mod(x: number, m: number): number {
  const r = x % m;
  return r < 0 ? r + m : r + 0;
}

const bytes = new Uint8Array(12);
const view = new DataView(bytes.buffer);
const key8 = bytes.subarray(0, 8);

/** Writes i's 64-bit two's complement (ToUint32 is an exact modulo, so both words are exact). */
function writeInt(i: number): void {
  view.setUint32(0, i >>> 0, true);
  view.setUint32(4, Math.floor(i / 4294967296) >>> 0, true);
}

/** xxHash32 of key i's 8 bytes. */
export function xxh32(key: number, seed = 0): number {
  writeInt(normaliseKey(key));
  return Bun.hash.xxHash32(key8, seed);
}

/** MurmurHash3 (x86, 32-bit; fmix32 finaliser) of key i's 8 bytes. */
export function murmur3(key: number, seed = 0): number {
  writeInt(normaliseKey(key));
  return Bun.hash.murmur32v3(key8, seed);
}

/** A strong hash of the pair (i, j): i's 8 bytes then j as 4 more, so no pair shares its input with a key. */
function pair(hash: (data: Uint8Array, seed?: number) => number, i: number, j: number): number {
  writeInt(normaliseKey(i));
  view.setUint32(8, normaliseKey(j) >>> 0, true);
  return hash(bytes, 0);
}

/** The Mersenne prime 2^31 - 1: products of two residues split in 16-bit halves stay below 2^48. */
const P = 2147483647;

function mulMod(a: number, b: number): number {
  return (((a * (b >>> 16)) % P) * 65536 + a * (b & 0xffff)) % P;
}

/** A quadratic in (i, j) with large odd coefficients modulo P (one of the 3-wise independent family of quadratics over a prime field). */
function polyPrime(i: number, j: number, coefficients: readonly number[]): number {
  const x = mod(normaliseKey(i), P);
  const y = mod(normaliseKey(j), P);
  const [a = 0, b = 0, c = 0, d = 0, e = 0, f = 0] = coefficients;
  const terms = [mulMod(a, mulMod(x, x)), mulMod(b, mulMod(x, y)), mulMod(c, mulMod(y, y)), mulMod(d, x), mulMod(e, y), f];
  let sum = 0;
  for (const t of terms) sum = (sum + t) % P;
  return sum;
}

const KEY_COEFFICIENTS = [1_103_515_245, 0, 0, 1_664_525_927, 0, 1_013_904_223];
const SERVER_COEFFICIENTS = [1_597_334_677, 1_442_695_041, 1_812_433_253, 1_181_783_497, 2_053_878_559, 1_376_312_589];

export const HASH_FUNCTIONS = {
  quadratic: {
    description: "the seed's H(i) = i² + 2i + 17 and Φ(i, j) = i² + j² + 2j + 25, exact, mod M (clusters: requests reach 87 of 512 slots)",
    key: (i, m) => {
      const r = mod(normaliseKey(i), m);
      return mod(r * r + 2 * r + 17, m);
    },
    server: (i, j, m) => {
      const ri = mod(normaliseKey(i), m);
      const rj = mod(normaliseKey(j), m);
      return mod(ri * ri + rj * rj + 2 * rj + 25, m);
    },
  },
  "poly-prime": {
    description: "a quadratic with large coefficients modulo the prime 2^31 - 1, then mod M: the seed's kind of function, mixing well",
    key: (i, m) => polyPrime(i, 0, KEY_COEFFICIENTS) % m,
    server: (i, j, m) => polyPrime(i, j, SERVER_COEFFICIENTS) % m,
  },
  xxh32: {
    description: "xxHash32 of the key's 8 bytes (of i's 8 bytes and j's 4 for a virtual server), mod M",
    key: (i, m) => xxh32(i) % m,
    server: (i, j, m) => pair(Bun.hash.xxHash32, i, j) % m,
  },
  murmur3: {
    description: "MurmurHash3 x86_32 (fmix32 finaliser) of the same bytes, mod M",
    key: (i, m) => murmur3(i) % m,
    server: (i, j, m) => pair(Bun.hash.murmur32v3, i, j) % m,
  },
} as const satisfies Record<string, HashFunction>;

export type HashName = keyof typeof HASH_FUNCTIONS;

/** The names in the order --help and the report list them. */
export const HASH_NAMES = Object.keys(HASH_FUNCTIONS) as HashName[];
