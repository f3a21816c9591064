import { WireError } from "./errors.ts";
import type { Request, Response } from "./messages.ts";

// The canonical layout Switchyard writes for its two hot messages, field by field:
//   req: fixmap(4-7) "t" "req" "id" uint32 "op" fixstr [ "key" uint32 ] [ "ttl" float64 ] [ "streamed" true ] "body" <value>
//   res: fixmap(3-4) "t" "res" "id" uint32 [ "streamed" true ] "body" <value>
// Writing and reading it by hand costs a fraction of a general encoder, and leaves the body as
// bytes; anything else (other messages, frames from another MessagePack library) takes the
// general path in codec.ts.
const T_KEY = [0xa1, 0x74];
const REQ = [0xa3, 0x72, 0x65, 0x71];
const RES = [0xa3, 0x72, 0x65, 0x73];
const ID_KEY = [0xa2, 0x69, 0x64];
const OP_KEY = [0xa2, 0x6f, 0x70];
const KEY_KEY = [0xa3, 0x6b, 0x65, 0x79];
const TTL_KEY = [0xa3, 0x74, 0x74, 0x6c];
const BODY_KEY = [0xa4, 0x62, 0x6f, 0x64, 0x79];
const STREAMED_KEY = [0xa8, 0x73, 0x74, 0x72, 0x65, 0x61, 0x6d, 0x65, 0x64];
const TRUE = 0xc3;
const UINT32 = 0xce;
const FLOAT64 = 0xcb;
const MAX_FIXSTR = 31;
const MAX_TTL_MS = 86_400_000;

// Float64 conversion through a scratch array: a DataView would force a backing buffer into
// existence for every frame. MessagePack is big-endian; the host may not be.
const f64 = new Float64Array(1);
const f64Bytes = new Uint8Array(f64.buffer);
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** Bytes before the body of a canonical res without `streamed`; a req's depends on its op and optional fields. */
const RES_HEAD = 1 + T_KEY.length + RES.length + ID_KEY.length + 5 + BODY_KEY.length;

const isUint32 = (v: unknown): v is number => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff_ffff;

/**
 * The message fits the canonical layout: unsigned 32-bit id (and key), for a req an op of 1 to 31
 * ASCII characters and a numeric ttl if any. Anything else, including deliberately malformed
 * messages in tests, is encoded faithfully by the general path.
 */
export function fitsEnvelope(message: Request | Response): boolean {
  if (!isUint32(message.id) || (message.streamed !== undefined && typeof message.streamed !== "boolean")) return false;
  if (message.t === "res") return true;
  const op: unknown = message.op;
  if (typeof op !== "string" || op.length === 0 || op.length > MAX_FIXSTR) return false;
  for (let i = 0; i < op.length; i++) if (op.charCodeAt(i) > 0x7f) return false;
  return (message.key === undefined || isUint32(message.key)) && (message.ttl === undefined || typeof message.ttl === "number");
}

/** Bytes of `message`'s envelope before its body (the message must fit, see fitsEnvelope). */
export function envelopeHeadSize(message: Request | Response): number {
  const streamed = message.streamed === true ? STREAMED_KEY.length + 1 : 0;
  if (message.t === "res") return RES_HEAD + streamed;
  return RES_HEAD + streamed + OP_KEY.length + 1 + message.op.length + (message.key === undefined ? 0 : KEY_KEY.length + 5) + (message.ttl === undefined ? 0 : TTL_KEY.length + 9);
}

/**
 * Writes the envelope of `message` up to its body into out[at…] and returns where the body's bytes
 * go. Writing in place lets a frame writer put frames straight into its batch, with no copy.
 */
export function writeEnvelopeHead(message: Request | Response, out: Uint8Array, at: number): number {
  const req = message.t === "req" ? message : undefined;
  const streamed = message.streamed === true;
  out[at++] = 0x80 | ((req ? 4 + (req.key === undefined ? 0 : 1) + (req.ttl === undefined ? 0 : 1) : 3) + (streamed ? 1 : 0));
  at = put(out, at, T_KEY);
  at = put(out, at, req ? REQ : RES);
  at = put(out, at, ID_KEY);
  at = putUint32(out, at, message.id);
  if (req) {
    const op = req.op;
    at = put(out, at, OP_KEY);
    out[at++] = 0xa0 | op.length;
    for (let i = 0; i < op.length; i++) out[at++] = op.charCodeAt(i);
    if (req.key !== undefined) {
      at = put(out, at, KEY_KEY);
      at = putUint32(out, at, req.key);
    }
    if (req.ttl !== undefined) {
      at = put(out, at, TTL_KEY);
      out[at++] = FLOAT64;
      f64[0] = req.ttl;
      for (let i = 0; i < 8; i++) out[at++] = f64Bytes[LITTLE_ENDIAN ? 7 - i : i]!;
    }
  }
  if (streamed) {
    at = put(out, at, STREAMED_KEY);
    out[at++] = TRUE;
  }
  return put(out, at, BODY_KEY);
}

/** req or res envelope around already-encoded body bytes, as a new array. */
export function writeEnvelope(message: Request | Response, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(envelopeHeadSize(message) + body.length);
  out.set(body, writeEnvelopeHead(message, out, 0));
  return out;
}

function put(out: Uint8Array, at: number, bytes: readonly number[]): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i]!;
  return at + bytes.length;
}

function putUint32(out: Uint8Array, at: number, n: number): number {
  out[at] = UINT32;
  out[at + 1] = n >>> 24;
  out[at + 2] = (n >>> 16) & 0xff;
  out[at + 3] = (n >>> 8) & 0xff;
  out[at + 4] = n & 0xff;
  return at + 5;
}

/** A canonical req or res split into its fields and the body's bytes. */
export interface Envelope {
  t: "req" | "res";
  id: number;
  op: string;
  key: number | undefined;
  ttl: number | undefined;
  /** Data frames with this id carry the rest of the body. */
  streamed: boolean;
  /** The body is b[bodyStart, end): an offset, not a view (see RawBody). */
  bodyStart: number;
}

/** Reads a canonical req or res from b[start, end); undefined for any other layout (the general decoder takes it). */
export function readEnvelope(b: Uint8Array, start = 0, end = b.length): Envelope | undefined {
  const fields = b[start]! & 0x0f;
  if ((b[start]! & 0xf0) !== 0x80 || fields < 3 || fields > 7 || end - start < RES_HEAD + 1) return undefined;
  let at = start + 1;
  const match = (bytes: number[]) => {
    for (let i = 0; i < bytes.length; i++) if (b[at + i] !== bytes[i]) return false;
    at += bytes.length;
    return true;
  };
  const readUint32 = () => {
    const n = ((b[at + 1]! << 24) | (b[at + 2]! << 16) | (b[at + 3]! << 8) | b[at + 4]!) >>> 0;
    at += 5;
    return n;
  };
  if (!match(T_KEY) || b[at] !== 0xa3 || b[at + 1] !== 0x72 || b[at + 2] !== 0x65) return undefined;
  const kind = b[at + 3] === 0x71 ? "req" : b[at + 3] === 0x73 ? "res" : undefined;
  if (kind === undefined) return undefined;
  at += 4;
  if (!match(ID_KEY) || b[at] !== UINT32) return undefined;
  const id = readUint32();
  let op = "";
  let key: number | undefined;
  let ttl: number | undefined;
  if (kind === "req") {
    if (!match(OP_KEY)) return undefined;
    const header = b[at++]!;
    const length = header & 0x1f;
    if ((header & 0xe0) !== 0xa0 || length === 0 || at + length > end) return undefined;
    for (let i = 0; i < length; i++) {
      const c = b[at + i]!;
      if (c > 0x7f) return undefined;
      op += String.fromCharCode(c);
    }
    at += length;
    if (match(KEY_KEY)) {
      if (b[at] !== UINT32 || at + 5 > end) return undefined;
      key = readUint32();
    }
    if (match(TTL_KEY)) {
      if (b[at++] !== FLOAT64 || at + 8 > end) return undefined;
      for (let i = 0; i < 8; i++) f64Bytes[LITTLE_ENDIAN ? 7 - i : i] = b[at + i]!;
      ttl = f64[0]!;
      at += 8;
    }
  }
  let streamed = false;
  // One byte compared on the hot path: "streamed" and "body" differ in their first (length) byte.
  if (b[at] === STREAMED_KEY[0] && match(STREAMED_KEY)) {
    if (b[at++] !== TRUE || at >= end) return undefined;
    streamed = true;
  }
  const expected = (kind === "res" ? 3 : 4 + (key === undefined ? 0 : 1) + (ttl === undefined ? 0 : 1)) + (streamed ? 1 : 0);
  if (fields !== expected || !match(BODY_KEY) || at >= end) return undefined;
  if (kind === "req") {
    if (id === 0) throw new WireError("bad_message", "req.id must be an integer from 1 to 2^32-1");
    if (ttl !== undefined && !(ttl > 0 && ttl <= MAX_TTL_MS)) {
      throw new WireError("bad_message", "req.ttl must be a positive number of ms, at most one day", id);
    }
  }
  return { t: kind, id, op, key, ttl, streamed, bodyStart: at };
}
