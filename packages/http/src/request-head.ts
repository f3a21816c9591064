import { HttpClientError } from "./errors.ts";
import type { UpstreamRequest } from "./types.ts";

export type RequestFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" };

export interface PreparedRequest {
  method: string;
  /** The head, followed by the whole body when it is small enough to share the write. */
  first: Uint8Array;
  /** What is written after `first`: a large body, or the stream to pump. */
  rest: Uint8Array | ReadableStream<Uint8Array> | null;
  framing: RequestFraming;
  /** The caller sent Connection: close: the connection is not reused after this exchange. */
  closeAfter: boolean;
}

/** Bodies up to this size go out in the same write as the head (one copy, one syscall). */
export const SMALL_BODY_BYTES = 64 * 1024;

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// origin-form ("/path?query") or "*"; no spaces or controls, so the request line cannot be split.
const TARGET = /^(?:\/[\x21-\x7e\x80-\xff]*|\*)$/;
// HTAB, visible ASCII, SP and obs-text only: no CR/LF (header injection), no code points above 255.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const BODY_METHODS = new Set(["POST", "PUT", "PATCH"]);

/**
 * Validates a request and renders its head with our own framing headers: the caller's
 * Content-Length is honoured only as the declared length of a stream body, and its
 * Transfer-Encoding never, so the framing always matches the bytes we send.
 */
export function prepareRequest(req: UpstreamRequest, hostHeader: string, label: string): PreparedRequest {
  if (!TOKEN.test(req.method)) throw invalid(label, `invalid method ${JSON.stringify(req.method)}`);
  if (!TARGET.test(req.target)) throw invalid(label, `invalid request target ${JSON.stringify(req.target.slice(0, 80))}`);
  let fields = "";
  let hasHost = false;
  let declared: string | undefined;
  let closeAfter = false;
  for (const [name, value] of req.headers) {
    if (!TOKEN.test(name) || BAD_VALUE.test(value)) throw invalid(label, `invalid request header ${JSON.stringify(name)}`);
    const lower = name.toLowerCase();
    if (lower === "content-length") {
      if (declared !== undefined && declared !== value.trim()) throw invalid(label, "conflicting Content-Length headers");
      declared = value.trim();
      continue;
    }
    if (lower === "transfer-encoding") continue;
    if (lower === "host") hasHost = true;
    else if (lower === "connection" && /(?:^|,)\s*close\s*(?:,|$)/i.test(value)) closeAfter = true;
    fields += `${name}: ${value}\r\n`;
  }

  const body = req.body;
  let framing: RequestFraming;
  if (body === null) framing = BODY_METHODS.has(req.method) ? { kind: "length", length: 0 } : { kind: "none" };
  else if (body instanceof Uint8Array) framing = { kind: "length", length: body.length };
  else if (declared !== undefined) {
    if (!/^[0-9]{1,15}$/.test(declared)) throw invalid(label, `invalid Content-Length ${JSON.stringify(declared)}`);
    framing = { kind: "length", length: Number(declared) };
  } else framing = { kind: "chunked" };

  let head = `${req.method} ${req.target} HTTP/1.1\r\n`;
  if (!hasHost) head += `Host: ${hostHeader}\r\n`;
  head += fields;
  if (framing.kind === "length") head += `Content-Length: ${framing.length}\r\n`;
  else if (framing.kind === "chunked") head += "Transfer-Encoding: chunked\r\n";
  head += "\r\n";

  // Every code point is below 256 (checked above), so latin1 is one byte each.
  if (body instanceof Uint8Array && body.length <= SMALL_BODY_BYTES) {
    const first = Buffer.allocUnsafe(head.length + body.length);
    first.write(head, 0, "latin1");
    first.set(body, head.length);
    return { method: req.method, first, rest: null, framing, closeAfter };
  }
  return { method: req.method, first: Buffer.from(head, "latin1"), rest: body, framing, closeAfter };
}

function invalid(label: string, why: string): HttpClientError {
  return new HttpClientError("protocol", `${label}: cannot send request: ${why}`, false);
}
