import { STATUS_CODES } from "node:http";
import type { HeaderList } from "./types.ts";

/** How the server delimits an answer's body. */
export type ResponseFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" } | { kind: "close" };

export interface HeadInput {
  status: number;
  headers: HeaderList;
  framing: ResponseFraming;
  /** For a HEAD request or a bodiless status: the Content-Length to announce, if known. */
  announcedLength?: number;
  /** The connection stays open after this answer. */
  keepAlive: boolean;
  /** The request's minor version: an HTTP/1.0 client is told `Connection: keep-alive` explicitly. */
  minor: number;
}

// Set by the server whatever the handler says: they describe this connection and this framing.
const SERVER_OWNED = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "te", "trailer", "upgrade", "proxy-connection"]);
// HTAB, visible ASCII, SP and obs-text: no CR or LF, so a value cannot add a header or end the head.
const BAD_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** An answer the handler built cannot be sent (a header that would split the response). */
export class InvalidResponse extends Error {
  override readonly name = "InvalidResponse";
}

/** The status line and fields, ending in the blank line: every code point below 256 (validated). */
export function renderResponseHead(input: HeadInput): string {
  const { status, framing } = input;
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? "Unknown"}\r\n`;
  let hasDate = false;
  for (const [name, value] of input.headers) {
    const lower = name.toLowerCase();
    if (SERVER_OWNED.has(lower)) continue;
    if (!TOKEN.test(name) || BAD_VALUE.test(value)) throw new InvalidResponse(`invalid response header ${JSON.stringify(name.slice(0, 40))}`);
    if (lower === "date") hasDate = true;
    head += `${name}: ${value}\r\n`;
  }
  // A proxy adds Date to an answer without one (RFC 9110 §6.6.1).
  if (!hasDate) head += `Date: ${httpDate()}\r\n`;
  if (framing.kind === "length") head += `Content-Length: ${framing.length}\r\n`;
  else if (framing.kind === "chunked") head += "Transfer-Encoding: chunked\r\n";
  else if (framing.kind === "none" && input.announcedLength !== undefined) head += `Content-Length: ${input.announcedLength}\r\n`;
  if (!input.keepAlive) head += "Connection: close\r\n";
  else if (input.minor === 0) head += "Connection: keep-alive\r\n";
  return `${head}\r\n`;
}

/** A status whose answer never has a body (RFC 9110 §6.4.1). */
export function bodiless(status: number): boolean {
  return status < 200 || status === 204 || status === 304;
}

let dateSecond = -1;
let dateText = "";

/** The IMF-fixdate of now, made once a second. */
function httpDate(): string {
  const second = Math.floor(Date.now() / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(second * 1000).toUTCString();
  }
  return dateText;
}
