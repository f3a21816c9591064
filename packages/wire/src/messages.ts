import { WireError } from "./errors.ts";
import type { RawBody } from "./raw-body.ts";

/** Major protocol version: peers with another major version are refused at `hello`. */
export const PROTOCOL_VERSION = 1;

/**
 * Bytes of a streamed body its receiver has granted before any `credit` frame: every stream starts
 * with this window (no round trip before the first chunk), and a receiver never buffers more.
 */
export const STREAM_WINDOW = 256 * 1024;
/** Largest `data.chunk`: well under the smallest sensible frame limit, so a chunk never ends a connection. */
export const STREAM_CHUNK = 64 * 1024;

/** Load statistics carried by `pong` (the health checks of seeds/001). */
export interface LoadStats {
  inflight: number;
  total: number;
  errors: number;
}

/** First frame on every connection, in both directions. */
export interface Hello {
  t: "hello";
  v: number;
  role: string;
  id: number;
}
/** `ttl` is the caller's remaining budget in ms; every hop spends at most that long. */
export interface Request {
  t: "req";
  id: number;
  op: string;
  body: unknown;
  ttl?: number;
  /** Routing key (the client id): a hop routes on it without decoding the body. */
  key?: number;
  /** `body` is only the head: the rest follows as `data` frames with this id (absent means false). */
  streamed?: boolean;
  /** Not on the wire: the body's bytes as received, so a hop can forward them without re-encoding. */
  rawBody?: RawBody;
  /** Not on the wire: the streamed rest of the body (set by the listener when `streamed`). */
  stream?: ReadableStream<Uint8Array>;
}
export interface Response {
  t: "res";
  id: number;
  body: unknown;
  /** `body` is only the head: the rest follows as `data` frames with this id (absent means false). */
  streamed?: boolean;
}
/** An error answer to request `id`, or to the connection as a whole when `id` is 0. */
export interface ErrorMessage {
  t: "err";
  id: number;
  code: string;
  message: string;
}
export interface Ping {
  t: "ping";
  id: number;
}
export interface Pong {
  t: "pong";
  id: number;
  stats: LoadStats;
}
/** The sender is draining: send no new requests on this connection; in-flight ones still finish. */
export interface GoAway {
  t: "goaway";
  reason: string;
}
/** Supervision traffic between the watchdog and its children (`kind` says which). */
export interface Control {
  t: "ctl";
  kind: string;
  data?: unknown;
}

/*
 * Streamed bodies. Which body a stream frame is about follows from who sends it: `data` and `abort`
 * come from a body's sender (the requester for the request body of `id`, the answerer for the
 * response body), `credit` and `cancel` from its receiver.
 */

/** The next chunk of the body of `id`; `end` marks the last one (its chunk may be empty). */
export interface StreamData {
  t: "data";
  id: number;
  chunk: Uint8Array;
  end?: boolean;
}
/** The receiver of the body of `id` consumed `bytes` more: the sender may send that much more. */
export interface StreamCredit {
  t: "credit";
  id: number;
  bytes: number;
}
/** From the receiver: it wants no more of the body of `id` (the sender stops and sends nothing more). */
export interface StreamCancel {
  t: "cancel";
  id: number;
  code: string;
  message: string;
}
/** From the sender: the body of `id` will not be completed (its source failed, it timed out, …). */
export interface StreamAbort {
  t: "abort";
  id: number;
  code: string;
  message: string;
}

export type StreamFrame = StreamData | StreamCredit | StreamCancel | StreamAbort;
export type Message = Hello | Request | Response | ErrorMessage | Ping | Pong | GoAway | Control | StreamFrame;
export type MessageType = Message["t"];

const MAX_ID = 0xffff_ffff;
const MAX_NAME = 64;
const MAX_TTL_MS = 86_400_000;

type Shape = Record<string, unknown>;
type Check = (m: Shape) => string | undefined;

const isId = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0 && (v as number) <= MAX_ID;
const isName = (v: unknown): v is string => typeof v === "string" && v.length > 0 && v.length <= MAX_NAME;
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;

const need = (ok: boolean, what: string): string | undefined => (ok ? undefined : what);
const isFlag = (v: unknown): boolean => v === undefined || typeof v === "boolean";
const isStreamId = (v: unknown): boolean => isId(v) && v !== 0;
/** cancel and abort have the same fields: a reason as an error code and a human message. */
const reasonProblem = (m: Shape): string | undefined =>
  need(isStreamId(m.id), `${m.t}.id must be an integer from 1 to 2^32-1`) ??
  need(isName(m.code), `${m.t}.code must be a non-empty string`) ??
  need(typeof m.message === "string", `${m.t}.message must be a string`);

// One check per kind; each returns the first thing wrong with the message, or undefined.
const CHECKS: Record<MessageType, Check> = {
  hello: (m) =>
    need(isCount(m.v), "hello.v must be a non-negative integer") ??
    need(isName(m.role), "hello.role must be a non-empty string") ??
    need(isId(m.id), "hello.id must be an unsigned 32-bit integer"),
  req: (m) =>
    need(isId(m.id) && m.id !== 0, "req.id must be an integer from 1 to 2^32-1") ??
    need(isName(m.op), "req.op must be a non-empty string of at most 64 characters") ??
    need(m.ttl === undefined || (typeof m.ttl === "number" && m.ttl > 0 && m.ttl <= MAX_TTL_MS), "req.ttl must be a positive number of ms, at most one day") ??
    need(m.key === undefined || isId(m.key), "req.key must be an unsigned 32-bit integer") ??
    need(isFlag(m.streamed), "req.streamed must be a boolean"),
  res: (m) => need(isId(m.id), "res.id must be an unsigned 32-bit integer") ?? need(isFlag(m.streamed), "res.streamed must be a boolean"),
  err: (m) =>
    need(isId(m.id), "err.id must be an unsigned 32-bit integer") ??
    need(isName(m.code), "err.code must be a non-empty string") ??
    need(typeof m.message === "string", "err.message must be a string"),
  ping: (m) => need(isId(m.id), "ping.id must be an unsigned 32-bit integer"),
  pong: (m) => {
    const s = m.stats as Shape | undefined;
    return (
      need(isId(m.id), "pong.id must be an unsigned 32-bit integer") ??
      need(
        typeof s === "object" && s !== null && isCount(s.inflight) && isCount(s.total) && isCount(s.errors),
        "pong.stats must hold non-negative integers inflight, total and errors",
      )
    );
  },
  goaway: (m) => need(typeof m.reason === "string", "goaway.reason must be a string"),
  ctl: (m) => need(isName(m.kind), "ctl.kind must be a non-empty string"),
  data: (m) =>
    need(isStreamId(m.id), "data.id must be an integer from 1 to 2^32-1") ??
    need(m.chunk instanceof Uint8Array && m.chunk.length <= STREAM_CHUNK, `data.chunk must be binary of at most ${STREAM_CHUNK} bytes`) ??
    need(isFlag(m.end), "data.end must be a boolean"),
  credit: (m) =>
    need(isStreamId(m.id), "credit.id must be an integer from 1 to 2^32-1") ??
    need(isId(m.bytes) && m.bytes !== 0, "credit.bytes must be an integer from 1 to 2^32-1"),
  cancel: reasonProblem,
  abort: reasonProblem,
};

/** Checks a decoded value and narrows it to a Message, or throws WireError("bad_message"). */
export function validateMessage(value: unknown): Message {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new WireError("bad_message", "a message must be a MessagePack map");
  }
  const m = value as Shape;
  // hello.id names the sender (Server #3), not a request: an error about it must not match request 3.
  const requestId = m.t !== "hello" && isId(m.id) ? m.id : 0;
  const check = typeof m.t === "string" ? CHECKS[m.t as MessageType] : undefined;
  if (check === undefined || !Object.hasOwn(CHECKS, m.t as string)) {
    throw new WireError("bad_message", `unknown message type ${JSON.stringify(m.t)}`, requestId);
  }
  const problem = check(m);
  if (problem !== undefined) throw new WireError("bad_message", problem, requestId);
  return m as unknown as Message;
}
