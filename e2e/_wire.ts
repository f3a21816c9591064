// Frames built by hand with msgpackr (not with packages/wire), so these tests check the fleet
// against the protocol as specified (4-byte big-endian length, then a MessagePack map), not
// against our own codec.
import { Packr } from "msgpackr";

const packr = new Packr({ useRecords: false, mapsAsObjects: true });

/** A length-prefixed frame holding any MessagePack value (valid message or not). */
export function frame(value: unknown): Uint8Array {
  const body = packr.pack(value);
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

/** A frame whose length prefix says `length` but which carries `body` (possibly shorter). */
export function lyingFrame(length: number, body: Uint8Array = new Uint8Array(0)): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setUint32(0, length);
  out.set(body, 4);
  return out;
}

/** A decoded frame body: a plain object for the messages we expect back. */
export function decode(body: Uint8Array): Record<string, unknown> {
  const value: unknown = packr.unpack(body);
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : { value };
}

export const hello = (role = "client", id = 1) => frame({ t: "hello", v: 1, role, id });
export const sqrtRequest = (id: number, client: number, value: unknown) => frame({ t: "req", id, op: "sqrt", body: { client, value } });

/** Deterministic pseudo-random bytes (xorshift32), so a failure can be replayed. */
export function pseudoRandomBytes(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
