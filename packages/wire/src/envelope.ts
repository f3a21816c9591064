import { WireError } from "./errors.ts";
import type { Request, Response } from "./messages.ts";

// The canonical layout Switchyard writes for its two hot messages, field by field:
//   req: fixmap(4|5) "t" "req" "id" uint32 "op" fixstr [ "ttl" float64 ] "body" <value>
//   res: fixmap(3)   "t" "res" "id" uint32 "body" <value>
// Writing and reading it by hand costs a fraction of a general encoder; anything else (other
// messages, or frames from another MessagePack library) takes the general path in codec.ts.
const T_KEY = [0xa1, 0x74];
const REQ = [0xa3, 0x72, 0x65, 0x71];
const RES = [0xa3, 0x72, 0x65, 0x73];
const ID_KEY = [0xa2, 0x69, 0x64];
const OP_KEY = [0xa2, 0x6f, 0x70];
const TTL_KEY = [0xa3, 0x74, 0x74, 0x6c];
const BODY_KEY = [0xa4, 0x62, 0x6f, 0x64, 0x79];
const UINT32 = 0xce;
const FLOAT64 = 0xcb;
const MAX_FIXSTR = 31;
const MAX_TTL_MS = 86_400_000;

// Float64 conversion through a scratch array: a DataView would force a backing buffer into
// existence for every frame. MessagePack is big-endian; the host may not be.
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

function writeFloat64(out: Uint8Array, at: number, value: number): void {
  f64[0] = value;
  for (let i = 0; i < 8; i++) out[at + i] = f64Bytes[LITTLE_ENDIAN ? 7 - i : i]!;
}

function readFloat64(b: Uint8Array, at: number): number {
  for (let i = 0; i < 8; i++) f64Bytes[LITTLE_ENDIAN ? 7 - i : i] = b[at + i]!;
  return f64[0]!;
}

/** Bytes before the body of a canonical res; a req's depends on its op. */
const RES_HEAD = 1 + T_KEY.length + RES.length + ID_KEY.length + 5 + BODY_KEY.length;

/**
 * The message fits the canonical layout: an unsigned 32-bit id, and for a req an op of 1 to 31
 * ASCII characters and a numeric ttl if any. (Anything else, including deliberately malformed
 * messages in tests, is encoded faithfully by the general path.)
 */
export function fitsEnvelope(message: Request | Response): boolean {
  const id = message.id;
  if (!Number.isInteger(id) || id < 0 || id > 0xffff_ffff) return false;
  if (message.t === "res") return true;
  const op: unknown = message.op;
  if (typeof op !== "string" || op.length === 0 || op.length > MAX_FIXSTR) return false;
  for (let i = 0; i < op.length; i++) if (op.charCodeAt(i) > 0x7f) return false;
  return message.ttl === undefined || typeof message.ttl === "number";
}

/** req or res envelope around already-encoded body bytes. */
export function writeEnvelope(message: Request | Response, body: Uint8Array): Uint8Array {
  const isReq = message.t === "req";
  const op = isReq ? message.op : "";
  const hasTtl = isReq && message.ttl !== undefined;
  const head = isReq ? RES_HEAD + OP_KEY.length + 1 + op.length + (hasTtl ? TTL_KEY.length + 9 : 0) : RES_HEAD;
  const out = new Uint8Array(head + body.length);
  let at = 0;
  const put = (bytes: number[]) => {
    for (const b of bytes) out[at++] = b;
  };
  out[at++] = 0x80 | (isReq ? (hasTtl ? 5 : 4) : 3);
  put(T_KEY);
  put(isReq ? REQ : RES);
  put(ID_KEY);
  out[at++] = UINT32;
  const id = message.id;
  out[at++] = id >>> 24;
  out[at++] = (id >>> 16) & 0xff;
  out[at++] = (id >>> 8) & 0xff;
  out[at++] = id & 0xff;
  if (isReq) {
    put(OP_KEY);
    out[at++] = 0xa0 | op.length;
    for (let i = 0; i < op.length; i++) out[at++] = op.charCodeAt(i);
    if (hasTtl) {
      put(TTL_KEY);
      out[at++] = FLOAT64;
      writeFloat64(out, at, message.ttl as number);
      at += 8;
    }
  }
  put(BODY_KEY);
  out.set(body, at);
  return out;
}

/** A canonical req or res split into its fields and the body's bytes, or undefined for any other layout. */
export interface Envelope {
  t: "req" | "res";
  id: number;
  op: string;
  ttl: number | undefined;
  body: Uint8Array;
}

export function readEnvelope(b: Uint8Array): Envelope | undefined {
  const fields = b[0]! & 0x0f;
  if ((b[0]! & 0xf0) !== 0x80 || fields < 3 || fields > 5 || b.length < RES_HEAD + 1) return undefined;
  let at = 1;
  const match = (bytes: number[]) => {
    for (const x of bytes) if (b[at++] !== x) return false;
    return true;
  };
  if (!match(T_KEY) || b[at] !== 0xa3 || b[at + 1] !== 0x72 || b[at + 2] !== 0x65) return undefined;
  const kind = b[at + 3] === 0x71 ? "req" : b[at + 3] === 0x73 ? "res" : undefined;
  if (kind === undefined || (kind === "res") !== (fields === 3)) return undefined;
  at += 4;
  if (!match(ID_KEY) || b[at++] !== UINT32) return undefined;
  const id = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  at += 4;
  let op = "";
  let ttl: number | undefined;
  if (kind === "req") {
    if (!match(OP_KEY)) return undefined;
    const header = b[at++]!;
    const length = header & 0x1f;
    if ((header & 0xe0) !== 0xa0 || length === 0 || at + length > b.length) return undefined;
    for (let i = 0; i < length; i++) {
      const c = b[at + i]!;
      if (c > 0x7f) return undefined;
      op += String.fromCharCode(c);
    }
    at += length;
    if (fields === 5) {
      if (!match(TTL_KEY) || b[at++] !== FLOAT64 || at + 8 > b.length) return undefined;
      ttl = readFloat64(b, at);
      at += 8;
    }
  }
  if (!match(BODY_KEY) || at >= b.length) return undefined;
  if (kind === "req") {
    if (id === 0) throw new WireError("bad_message", "req.id must be an integer from 1 to 2^32-1");
    if (ttl !== undefined && !(ttl > 0 && ttl <= MAX_TTL_MS)) {
      throw new WireError("bad_message", "req.ttl must be a positive number of ms, at most one day", id);
    }
  }
  return { t: kind, id, op, ttl, body: b.subarray(at) };
}
