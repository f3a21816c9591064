import { BAD_OCTETS, ParseError, TOKEN, mergeContentLength, parseFieldLines } from "../head-parser.ts";

/** How a request's body is delimited (RFC 9112 §6.3): a request without either header has none. */
export type RequestFraming = { kind: "none" } | { kind: "length"; length: number } | { kind: "chunked" };

export interface RequestHead {
  method: string;
  /** Origin-form ("/path?query"), or "*" for OPTIONS; an absolute-form target is reduced to this. */
  target: string;
  /** The minor version: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minor: number;
  /** In order, names lower-cased. */
  headers: Array<[string, string]>;
  /** The Host header, or the authority of an absolute-form target (which takes precedence). */
  host: string | undefined;
  framing: RequestFraming;
  /** The client allows another request on this connection after the answer. */
  keepAlive: boolean;
  /** `Expect: 100-continue`: the client waits for an interim answer before sending the body. */
  expectContinue: boolean;
}

const REQUEST_LINE = /^([^ ]+) ([^ ]+) HTTP\/([0-9])\.([0-9])$/;
// Visible ASCII and obs-text after the first slash; controls are already excluded by BAD_OCTETS.
const ORIGIN_FORM = /^\/[\x21-\x7e\x80-\xff]*$/;
const ABSOLUTE_FORM = /^https?:\/\/([^/?#@]+)([/?][\x21-\x7e\x80-\xff]*)?$/i;

/**
 * Parses a request head (request line and fields, without the final CRLFCRLF) and decides how its
 * body is framed. Whatever a smuggling attack could read two ways is rejected with the status a
 * server answers (400, or 501 for what it does not implement, 505 for a version it does not speak).
 */
export function parseRequestHead(text: string): RequestHead {
  if (BAD_OCTETS.test(text)) throw new ParseError("request head has a bare CR/LF or a control character");
  const lines = text.split("\r\n");
  const line = lines[0] ?? "";
  const match = REQUEST_LINE.exec(line);
  if (match === null) throw new ParseError(`malformed request line ${JSON.stringify(line.slice(0, 80))}`);
  const [, method = "", rawTarget = "", major, minorDigit] = match;
  if (major !== "1") throw new ParseError(`HTTP/${major}.${minorDigit} is not supported`, 505);
  if (!TOKEN.test(method)) throw new ParseError(`malformed method ${JSON.stringify(method.slice(0, 40))}`);
  // HTTP/1.2 and later minors are read as 1.1 (RFC 9110 §2.5).
  const minor = minorDigit === "0" ? 0 : 1;
  const headers = parseFieldLines(lines, 1);

  let host: string | undefined;
  let hosts = 0;
  let contentLength: number | undefined;
  let transferEncoding: string | undefined;
  let close = false;
  let keepAliveToken = false;
  let expect: string | undefined;
  for (const [name, value] of headers) {
    switch (name) {
      case "host":
        hosts++;
        host = value;
        break;
      case "content-length":
        contentLength = mergeContentLength(contentLength, value);
        break;
      case "transfer-encoding":
        transferEncoding = transferEncoding === undefined ? value : `${transferEncoding},${value}`;
        break;
      case "connection":
        for (const token of value.split(",")) {
          const trimmed = token.trim().toLowerCase();
          if (trimmed === "close") close = true;
          else if (trimmed === "keep-alive") keepAliveToken = true;
        }
        break;
      case "expect":
        expect = value.toLowerCase();
        break;
    }
  }
  if (hosts > 1) throw new ParseError("more than one Host header");
  if (minor === 1 && hosts === 0) throw new ParseError("HTTP/1.1 request without a Host header");

  const target = targetOf(method, rawTarget);
  if (target.authority !== undefined) {
    // The target's authority wins over Host (RFC 9112 §3.2.2), for every hop after this one too.
    host = target.authority;
    for (const header of headers) if (header[0] === "host") header[1] = host;
  }

  let framing: RequestFraming = { kind: "none" };
  if (transferEncoding !== undefined) {
    if (contentLength !== undefined) throw new ParseError("request has both Transfer-Encoding and Content-Length");
    if (minor === 0) throw new ParseError("HTTP/1.0 request with Transfer-Encoding");
    const codings = transferEncoding
      .split(",")
      .map((coding) => coding.trim().toLowerCase())
      .filter((coding) => coding !== "");
    if (codings[codings.length - 1] !== "chunked") throw new ParseError("Transfer-Encoding does not end in chunked");
    // Another coding under chunked would reach the upstream decoded of chunked but still encoded, without a header saying so.
    if (codings.length !== 1) throw new ParseError(`Transfer-Encoding ${JSON.stringify(codings.join(", "))} is not supported`, 501);
    framing = { kind: "chunked" };
  } else if (contentLength !== undefined && contentLength > 0) {
    framing = { kind: "length", length: contentLength };
  }

  let expectContinue = false;
  if (expect !== undefined) {
    if (expect.trim() !== "100-continue") throw new ParseError(`Expect ${JSON.stringify(expect.slice(0, 40))} cannot be met`, 417);
    expectContinue = minor === 1 && framing.kind !== "none";
  }

  const keepAlive = minor === 1 ? !close : keepAliveToken && !close;
  return { method, target: target.path, minor, headers, host, framing, keepAlive, expectContinue };
}

/** The path and query of a request target in any form a proxy accepts (RFC 9112 §3.2). */
function targetOf(method: string, raw: string): { path: string; authority?: string } {
  if (method === "CONNECT") throw new ParseError("CONNECT tunnels are not supported", 501);
  if (ORIGIN_FORM.test(raw)) return { path: raw };
  if (raw === "*") {
    if (method !== "OPTIONS") throw new ParseError("the target * is only for OPTIONS");
    return { path: raw };
  }
  const absolute = ABSOLUTE_FORM.exec(raw);
  if (absolute === null) throw new ParseError(`malformed request target ${JSON.stringify(raw.slice(0, 80))}`);
  const rest = absolute[2] ?? "";
  return { path: rest.startsWith("/") ? rest : `/${rest}`, authority: absolute[1] };
}
