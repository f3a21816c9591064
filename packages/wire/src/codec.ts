import { Packr } from "msgpackr";
import { fitsEnvelope, readEnvelope, writeEnvelope } from "./envelope.ts";
import { WireError } from "./errors.ts";
import { type Message, type Request, type Response, validateMessage } from "./messages.ts";
import { RawBody } from "./raw-body.ts";

/** Default largest frame body: checked on the length prefix, before anything is allocated. */
export const DEFAULT_MAX_FRAME = 1024 * 1024;
/** Bytes of the big-endian length prefix before every frame. */
export const HEADER_BYTES = 4;

// Plain maps only (no records, no extensions beyond the standard), so any MessagePack library can talk to us.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false });

export interface DecodeOptions {
  /** Keep response bodies as their bytes (RawBody) instead of decoding them: for hops that only pass them on. */
  rawResponses?: boolean;
  /** Decode a request's body only when it is read: a hop that routes on `key` never reads it. */
  lazyRequests?: boolean;
}

/** MessagePack body of one message (no length prefix). A RawBody is written as the bytes it holds. */
export function encodeBody(message: Message): Uint8Array {
  if (message.t !== "req" && message.t !== "res") return packr.pack(message);
  if (fitsEnvelope(message)) return writeEnvelope(message, bodyBytes(message.body));
  return packr.pack({ ...message, body: message.body instanceof RawBody ? unpackValue(message.body.bytes) : message.body });
}

/** A req or res that is written in the canonical envelope (see envelope.ts); others take the general encoder. */
export function hasEnvelope(message: Message): message is Request | Response {
  return (message.t === "req" || message.t === "res") && fitsEnvelope(message);
}

/** The MessagePack bytes of a body: a RawBody's own, or a fresh encoding valid until the next call. */
export function bodyBytes(body: unknown): Uint8Array {
  return body instanceof RawBody ? body.bytes : packr.pack(body);
}

/** One complete frame: 4-byte big-endian length, then the MessagePack body. */
export function encodeFrame(message: Message): Uint8Array {
  const body = encodeBody(message);
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, HEADER_BYTES);
  return frame;
}

/**
 * Decodes and validates one frame body, bytes[start, end) (offsets spare the reader a view per
 * frame); throws WireError("bad_frame" | "bad_message").
 */
export function decodeBody(bytes: Uint8Array, options: DecodeOptions = {}, start = 0, end = bytes.length): Message {
  const envelope = end > start ? readEnvelope(bytes, start, end) : undefined;
  if (envelope !== undefined) {
    // The body stays where it was read: every socket read is a fresh ArrayBuffer (see FrameReader),
    // so its bytes remain valid as long as the message lives.
    const at = envelope.bodyStart;
    if (envelope.t === "res") {
      const response: Response = { t: "res", id: envelope.id, body: options.rawResponses ? new RawBody(bytes, at, end) : unpackValue(bytes, at, end) };
      if (envelope.streamed) response.streamed = true;
      return response;
    }
    if (options.lazyRequests) {
      const lazy = new LazyRequest(envelope.id, envelope.op, envelope.key, envelope.ttl, new RawBody(bytes, at, end));
      if (envelope.streamed) lazy.streamed = true;
      return lazy;
    }
    // Requests keep their body's bytes too, to be passed on as they are.
    const request: Request = { t: "req", id: envelope.id, op: envelope.op, body: unpackValue(bytes, at, end) };
    if (envelope.key !== undefined) request.key = envelope.key;
    if (envelope.ttl !== undefined) request.ttl = envelope.ttl;
    if (envelope.streamed) request.streamed = true;
    // Not enumerable: local to this process, never serialised or compared as a field.
    Object.defineProperty(request, "rawBody", { value: new RawBody(bytes, at, end), enumerable: false });
    return request;
  }
  return validateMessage(unpackValue(bytes, start, end));
}

/** A body encoded once, to be sent many times as these bytes (a server's constant answers). */
export function preEncode(value: unknown): RawBody {
  return new RawBody(packr.pack(value).slice());
}

/** The value a RawBody holds (a hop that must read an answer it usually passes on unread). */
export function decodeValue(raw: RawBody): unknown {
  return unpackValue(raw.source, raw.start, raw.end);
}

/** A request whose body is decoded on first read (a bad body then throws WireError "bad_frame"). */
class LazyRequest implements Request {
  readonly t = "req";
  // Declared, not initialised: an ordinary request's object stays as small as before.
  declare streamed?: boolean;
  private decoded: { value: unknown } | undefined;

  constructor(
    readonly id: number,
    readonly op: string,
    readonly key: number | undefined,
    readonly ttl: number | undefined,
    readonly rawBody: RawBody,
  ) {}

  get body(): unknown {
    const raw = this.rawBody;
    this.decoded ??= { value: unpackValue(raw.source, raw.start, raw.end) };
    return this.decoded.value;
  }
}

/**
 * Decodes bytes[start, end). Through a view of its own, not msgpackr's start/end options: msgpackr
 * caches a DataView as a property of the array it reads, and on the socket's read buffer that
 * property slows every later access to it (tried: the servers then needed about a fifth more CPU
 * per request).
 */
function unpackValue(bytes: Uint8Array, start = 0, end = bytes.length): unknown {
  if (end <= start) throw new WireError("bad_frame", "frame is not valid MessagePack (it is empty)");
  try {
    return packr.unpack(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end));
  } catch (error) {
    throw new WireError("bad_frame", `frame is not valid MessagePack (${(error as Error).message})`);
  }
}
