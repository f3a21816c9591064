import { RequestError } from "@switchyard/net";

/** One header as it travels between hops: lower-case name, value. */
export type HeaderPair = [string, string];

/**
 * The body of a wire request with op "http" (DESIGN §3): an HTTP request as the front door received
 * it, with the forwarding headers already added. The body is inline when small; a large one follows
 * as a stream (request.stream) and `body` is absent.
 */
export interface HttpExchangeRequest {
  method: string;
  /** Path and query, as received: "/home?x=1". */
  target: string;
  headers: HeaderPair[];
  body?: Uint8Array;
}

/** The answer to an "http" request; a large body follows as a stream and `body` is absent. */
export interface HttpExchangeResponse {
  status: number;
  headers: HeaderPair[];
  body?: Uint8Array;
}

/** An answer as a hop hands it on: small bodies inline in `response.body`, larger ones as `stream`. */
export interface HttpReply {
  response: HttpExchangeResponse;
  stream?: ReadableStream<Uint8Array>;
}

/** Bodies up to this size travel inline in one frame; larger or unknown-length ones stream (DESIGN §3). */
export const INLINE_BODY = 64 * 1024;

const METHOD = /^[A-Z][A-Z0-9-]{0,31}$/;
const MAX_TARGET = 16 * 1024;

/** Narrows the body of an "http" request, or throws RequestError("bad_request"). */
export function validateHttpRequest(body: unknown): HttpExchangeRequest {
  const b = body as Partial<HttpExchangeRequest> | null;
  if (typeof b !== "object" || b === null) throw new RequestError("bad_request", "http needs a body {method, target, headers}");
  if (typeof b.method !== "string" || !METHOD.test(b.method)) throw new RequestError("bad_request", "http.method must be an HTTP method in capitals");
  if (typeof b.target !== "string" || !b.target.startsWith("/") || b.target.length > MAX_TARGET) {
    throw new RequestError("bad_request", "http.target must be a path starting with / (at most 16 KiB)");
  }
  if (!validHeaders(b.headers)) throw new RequestError("bad_request", "http.headers must be a list of [name, value] string pairs");
  if (b.body !== undefined && !(b.body instanceof Uint8Array)) throw new RequestError("bad_request", "http.body must be binary");
  return b as HttpExchangeRequest;
}

/** Narrows an upstream's answer to an "http" request, or throws RequestError("bad_response"). */
export function validateHttpResponse(body: unknown): HttpExchangeResponse {
  const b = body as Partial<HttpExchangeResponse> | null;
  if (typeof b !== "object" || b === null || !Number.isInteger(b.status) || (b.status as number) < 100 || (b.status as number) > 599) {
    throw new RequestError("bad_response", "an http answer needs an integer status from 100 to 599");
  }
  if (!validHeaders(b.headers)) throw new RequestError("bad_response", "http answer headers must be a list of [name, value] string pairs");
  if (b.body !== undefined && !(b.body instanceof Uint8Array)) throw new RequestError("bad_response", "an http answer body must be binary");
  return b as HttpExchangeResponse;
}

function validHeaders(headers: unknown): headers is HeaderPair[] {
  if (!Array.isArray(headers)) return false;
  for (const pair of headers) {
    if (!Array.isArray(pair) || pair.length !== 2 || typeof pair[0] !== "string" || typeof pair[1] !== "string") return false;
  }
  return true;
}

const encoder = new TextEncoder();
const JSON_TYPE: HeaderPair = ["content-type", "application/json"];

/** The JSON answer of seeds/002: `{"message": …, "status": "successful" | "failure"}`. */
export function jsonAnswer(status: number, message: unknown, extraHeaders: HeaderPair[] = []): HttpExchangeResponse {
  const text = JSON.stringify({ message, status: status < 400 ? "successful" : "failure" });
  return { status, headers: [JSON_TYPE, ...extraHeaders], body: encoder.encode(text) };
}

/** The path of a target, without its query. */
export function pathOf(target: string): string {
  const query = target.indexOf("?");
  return query < 0 ? target : target.slice(0, query);
}

/** RFC 9110 §9.2.2: methods a client may repeat; only these are retried after a request may have run. */
const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

export function isIdempotentMethod(method: string): boolean {
  return IDEMPOTENT_METHODS.has(method);
}

/** A six-digit request id, as seeds/002 assumes its request ids R are (100000 to 999999): the key of an HTTP request routed on nothing else. */
export function randomRequestKey(random: () => number = Math.random): number {
  return 100_000 + Math.floor(random() * 900_000);
}
