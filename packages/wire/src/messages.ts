import { WireError } from "./errors.ts";
import type { RawBody } from "./raw-body.ts";

/** Major protocol version: peers with another major version are refused at `hello`. */
export const PROTOCOL_VERSION = 1;

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
  /** Not on the wire: the body's bytes as received, so a hop can forward them without re-encoding. */
  rawBody?: RawBody;
}
export interface Response {
  t: "res";
  id: number;
  body: unknown;
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

export type Message = Hello | Request | Response | ErrorMessage | Ping | Pong | GoAway | Control;
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
    need(m.key === undefined || isId(m.key), "req.key must be an unsigned 32-bit integer"),
  res: (m) => need(isId(m.id), "res.id must be an unsigned 32-bit integer"),
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
