import { CR, LF } from "./_bytes.ts";

/** How the body of a response is delimited (RFC 9112 §6.3). */
export type Framing =
  | { kind: "none" } // HEAD, 1xx, 204, 304
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" }; // until the upstream closes the connection

export interface ResponseHead {
  status: number;
  reason: string;
  /** The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** In order, names lower-cased. */
  headers: Array<[string, string]>;
  framing: Framing;
  contentLength: number | undefined;
  /** The connection may carry another request after this response. */
  keepAlive: boolean;
}

/** Bytes that are not a valid (or not a safe) HTTP/1.1 message. */
export class ParseError extends Error {
  override readonly name = "ParseError";
  constructor(
    message: string,
    /** What a server answers a request it cannot read: 400, or 431, 413, 501, 505 (RFC 9110 §15). */
    readonly status = 400,
  ) {
    super(message);
  }
}

export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9][0-9]{2})(?: ([^]*))?$/;
// CR and LF only as CRLF pairs; no other controls except HTAB (RFC 9110 §5.5 field values).
export const BAD_OCTETS = /\r(?!\n)|(?<!\r)\n|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/;
const MAX_LENGTH_DIGITS = 15; // below 2^53: Content-Length stays an exact number

/**
 * The index just past the first CRLFCRLF in bytes[from, to), or -1. `from` may point into a
 * previous search's tail: callers pass `searched - 3` so a terminator split across reads is found.
 */
export function findHeadEnd(bytes: Uint8Array, from: number, to = bytes.length): number {
  for (let i = Math.max(from, 0) + 3; i < to; i++) {
    if (bytes[i] === LF && bytes[i - 1] === CR && bytes[i - 2] === LF && bytes[i - 3] === CR) return i + 1;
  }
  return -1;
}

/**
 * Parses a response head (the text before the blank line, without the final CRLFCRLF) and decides
 * its framing. Anything ambiguous a smuggling attack could use is rejected rather than guessed.
 */
export function parseHead(text: string, requestMethod: string): ResponseHead {
  if (BAD_OCTETS.test(text)) throw new ParseError("response head has a bare CR/LF or a control character");
  const lines = text.split("\r\n");
  const statusLine = lines[0] ?? "";
  const match = STATUS_LINE.exec(statusLine);
  if (match === null) throw new ParseError(`malformed status line ${JSON.stringify(statusLine.slice(0, 80))}`);
  const minor = Number(match[1]);
  const status = Number(match[2]);
  const headers = parseFieldLines(lines, 1);

  const transferCodings: string[] = [];
  let contentLength: number | undefined;
  let closeToken = false;
  let keepAliveToken = false;
  for (const [name, value] of headers) {
    if (name === "content-length") {
      contentLength = mergeContentLength(contentLength, value);
    } else if (name === "transfer-encoding") {
      for (const coding of value.split(",")) {
        const trimmed = coding.trim().toLowerCase();
        if (trimmed !== "") transferCodings.push(trimmed);
      }
    } else if (name === "connection") {
      for (const token of value.split(",")) {
        const trimmed = token.trim().toLowerCase();
        if (trimmed === "close") closeToken = true;
        else if (trimmed === "keep-alive") keepAliveToken = true;
      }
    }
  }

  const hasTransferEncoding = headers.some(([name]) => name === "transfer-encoding");
  if (hasTransferEncoding && contentLength !== undefined) {
    throw new ParseError("response has both Transfer-Encoding and Content-Length");
  }
  if (hasTransferEncoding && minor === 0) throw new ParseError("HTTP/1.0 response with Transfer-Encoding");
  // Only plain chunked: with another coding the decoded bytes would be forwarded without the
  // header that says how to read them.
  if (hasTransferEncoding && (transferCodings.length !== 1 || transferCodings[0] !== "chunked")) {
    throw new ParseError(`unsupported Transfer-Encoding ${JSON.stringify(transferCodings.join(", "))}`);
  }
  if (status === 101) throw new ParseError("unexpected 101 Switching Protocols (no upgrade was requested)");

  let framing: Framing;
  if (requestMethod === "HEAD" || status < 200 || status === 204 || status === 304) framing = { kind: "none" };
  else if (contentLength !== undefined) framing = { kind: "length", length: contentLength };
  else if (hasTransferEncoding) framing = { kind: "chunked" };
  else framing = { kind: "close" };

  const keepAlive = framing.kind !== "close" && (minor === 1 ? !closeToken : keepAliveToken);
  return { status, reason: match[3] ?? "", minor, headers, framing, contentLength, keepAlive };
}

/** "name: value" lines from `lines[from]` on, names lower-cased and values stripped of OWS. */
export function parseFieldLines(lines: readonly string[], from: number): Array<[string, string]> {
  const fields: Array<[string, string]> = [];
  for (let i = from; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    // A leading space (obs-fold) or a space before the colon fails TOKEN: RFC 9112 §5.1-5.2 say reject.
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new ParseError(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
    fields.push([name.toLowerCase(), trimOws(line.slice(colon + 1))]);
  }
  return fields;
}

/** Strips spaces and tabs only: String.trim would also eat 0xA0, a legal obs-text byte. */
export function trimOws(value: string): string {
  let start = 0;
  let end = value.length;
  while (start < end && (value.charCodeAt(start) === 32 || value.charCodeAt(start) === 9)) start++;
  while (end > start && (value.charCodeAt(end - 1) === 32 || value.charCodeAt(end - 1) === 9)) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

/** Repeated or listed Content-Length values are fine only when they all agree (RFC 9112 §6.3 item 5). */
export function mergeContentLength(previous: number | undefined, value: string): number {
  let merged = previous;
  for (const part of value.split(",")) {
    const digits = part.trim();
    if (!/^[0-9]+$/.test(digits) || digits.length > MAX_LENGTH_DIGITS) {
      throw new ParseError(`invalid Content-Length ${JSON.stringify(value.slice(0, 40))}`);
    }
    const length = Number(digits);
    if (merged !== undefined && merged !== length) throw new ParseError("conflicting Content-Length values");
    merged = length;
  }
  return merged!;
}
