import { expect, test } from "bun:test";
import { ParseError } from "../head-parser.ts";
import { type RequestHead, parseRequestHead } from "./request-head.ts";

/** Parses a head given as its lines (without the final blank line). */
const head = (lines: string[]): RequestHead => parseRequestHead(lines.join("\r\n"));

/** The status a server answers for this head: its ParseError's status, or "ok" if it parses. */
function statusOf(lines: string[]): number | "ok" {
  try {
    head(lines);
    return "ok";
  } catch (error) {
    if (error instanceof ParseError) return error.status;
    throw error;
  }
}

/** Fails unless the head is rejected with a ParseError of `status` whose message contains `message`. */
function rejects(lines: string[], status: number, message = ""): void {
  let error: unknown;
  try {
    head(lines);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ParseError);
  expect((error as ParseError).status).toBe(status);
  expect((error as ParseError).message).toContain(message);
}

// Request line forms

test("an origin-form request is read with its method, target, version and fields in order, names lower-cased", () => {
  const parsed = head(["GET /a/b?x=1&y=%20 HTTP/1.1", "Host: example.com", "Accept:  */* \t", "X-Multi: a", "x-multi: b"]);
  expect(parsed.method).toBe("GET");
  expect(parsed.target).toBe("/a/b?x=1&y=%20");
  expect(parsed.minor).toBe(1);
  expect(parsed.host).toBe("example.com");
  expect(parsed.headers).toEqual([
    ["host", "example.com"],
    ["accept", "*/*"],
    ["x-multi", "a"],
    ["x-multi", "b"],
  ]);
  expect(parsed.framing).toEqual({ kind: "none" });
  expect(parsed.keepAlive).toBe(true);
  expect(parsed.expectContinue).toBe(false);
});

test("obs-text (0x80-0xFF) in a target and in header values is kept as is", () => {
  const parsed = head(["GET /caf\xe9 HTTP/1.1", "Host: h", "X-Latin: caf\xe9\xa0"]);
  expect(parsed.target).toBe("/caf\xe9");
  expect(parsed.headers[1]).toEqual(["x-latin", "caf\xe9\xa0"]);
});

test("an absolute-form target is reduced to its path and query, and its authority replaces Host", () => {
  const parsed = head(["GET http://upstream.example:8080/p/q?x=1 HTTP/1.1", "Host: ignored.example", "Accept: */*"]);
  expect(parsed.target).toBe("/p/q?x=1");
  expect(parsed.host).toBe("upstream.example:8080");
  // The header list carries the winning authority too, for every hop after this one.
  expect(parsed.headers).toEqual([
    ["host", "upstream.example:8080"],
    ["accept", "*/*"],
  ]);
  expect(head(["GET HTTPS://Secure.example HTTP/1.1", "Host: x"])).toMatchObject({ target: "/", host: "Secure.example" });
  expect(head(["GET http://a.example?q=1 HTTP/1.1", "Host: x"])).toMatchObject({ target: "/?q=1", host: "a.example" });
  // HTTP/1.0 needs no Host header: the authority becomes the host.
  expect(head(["GET http://only.example/x HTTP/1.0"])).toMatchObject({ target: "/x", host: "only.example", minor: 0 });
});

test("absolute-form targets with userinfo, another scheme or no authority are rejected with 400", () => {
  rejects(["GET http://user@evil.example/ HTTP/1.1", "Host: h"], 400, "malformed request target");
  rejects(["GET ftp://files.example/ HTTP/1.1", "Host: h"], 400, "malformed request target");
  rejects(["GET http:///path HTTP/1.1", "Host: h"], 400, "malformed request target");
  rejects(["GET example.com/path HTTP/1.1", "Host: h"], 400, "malformed request target");
});

test('"*" is a target only for OPTIONS', () => {
  expect(head(["OPTIONS * HTTP/1.1", "Host: h"])).toMatchObject({ method: "OPTIONS", target: "*" });
  rejects(["GET * HTTP/1.1", "Host: h"], 400, "only for OPTIONS");
  rejects(["POST * HTTP/1.1", "Host: h", "Content-Length: 0"], 400, "only for OPTIONS");
});

test("CONNECT (a tunnel) is answered 501 Not Implemented", () => {
  rejects(["CONNECT example.com:443 HTTP/1.1", "Host: example.com:443"], 501, "CONNECT");
  rejects(["CONNECT http://example.com/ HTTP/1.1", "Host: example.com"], 501, "CONNECT");
});

test("a CONNECT is answered 501 whatever its target looks like", () => {
  rejects(["CONNECT / HTTP/1.1", "Host: example.com"], 501, "CONNECT");
});

test("malformed request lines and methods are rejected with 400", () => {
  const lines = [
    "GET /",
    "GET / HTTP/1.1 ",
    " GET / HTTP/1.1",
    "GET  / HTTP/1.1",
    "GET / HTTP/1.10",
    "GET / http/1.1",
    "GET / HTTP/1",
    "GET /a b HTTP/1.1",
    "G(E)T / HTTP/1.1",
    "GET\t/ HTTP/1.1",
    "",
  ];
  for (const line of lines) expect({ line, status: statusOf([line, "Host: h"]) }).toEqual({ line, status: 400 });
});

// Versions

test("HTTP/1.0 and HTTP/1.1 are spoken; a later 1.x minor is read as 1.1", () => {
  expect(head(["GET / HTTP/1.0"]).minor).toBe(0);
  expect(head(["GET / HTTP/1.1", "Host: h"]).minor).toBe(1);
  expect(head(["GET / HTTP/1.2", "Host: h"]).minor).toBe(1);
  expect(head(["GET / HTTP/1.9", "Host: h"]).minor).toBe(1);
  // Read as 1.1, so it follows 1.1's rules: Host required.
  rejects(["GET / HTTP/1.2"], 400, "Host");
});

test("any other major version is answered 505 HTTP Version Not Supported", () => {
  rejects(["GET / HTTP/2.0", "Host: h"], 505, "HTTP/2.0");
  rejects(["GET / HTTP/0.9", "Host: h"], 505);
  rejects(["GET / HTTP/3.0", "Host: h"], 505);
});

// Host

test("an HTTP/1.1 request needs exactly one Host header", () => {
  rejects(["GET / HTTP/1.1"], 400, "without a Host header");
  rejects(["GET / HTTP/1.1", "Host: a", "Host: b"], 400, "more than one Host");
  rejects(["GET / HTTP/1.1", "Host: a", "host: a"], 400, "more than one Host");
  // An absolute-form target does not stand in for the header.
  rejects(["GET http://a.example/ HTTP/1.1"], 400, "without a Host header");
  expect(head(["GET / HTTP/1.1", "hOsT: Mixed.Case"]).host).toBe("Mixed.Case");
});

test("an HTTP/1.0 request may leave Host out; host is then undefined", () => {
  const parsed = head(["GET / HTTP/1.0", "Accept: */*"]);
  expect(parsed.host).toBeUndefined();
  expect(head(["GET / HTTP/1.0", "Host: old.example"]).host).toBe("old.example");
});

test("an HTTP/1.0 request with two Host headers is rejected with 400", () => {
  rejects(["GET / HTTP/1.0", "Host: a.example", "Host: b.example"], 400, "more than one Host");
});

// Framing

test("a request without Content-Length or Transfer-Encoding, or with Content-Length 0, has no body", () => {
  expect(head(["POST / HTTP/1.1", "Host: h"]).framing).toEqual({ kind: "none" });
  expect(head(["POST / HTTP/1.1", "Host: h", "Content-Length: 0"]).framing).toEqual({ kind: "none" });
  expect(head(["POST / HTTP/1.1", "Host: h", "Content-Length: 000"]).framing).toEqual({ kind: "none" });
});

test("Content-Length frames the body; repeated or listed values are fine when they all agree", () => {
  expect(head(["POST / HTTP/1.1", "Host: h", "Content-Length: 12"]).framing).toEqual({ kind: "length", length: 12 });
  expect(head(["POST / HTTP/1.1", "Host: h", "Content-Length: 5", "Content-Length: 5"]).framing).toEqual({ kind: "length", length: 5 });
  expect(head(["POST / HTTP/1.1", "Host: h", "Content-Length: 5, 5", "content-length: 005"]).framing).toEqual({ kind: "length", length: 5 });
  expect(head(["POST / HTTP/1.0", "Content-Length: 3"]).framing).toEqual({ kind: "length", length: 3 });
  // The largest length that stays an exact number.
  expect(head(["POST / HTTP/1.1", "Host: h", "Content-Length: 999999999999999"]).framing).toEqual({ kind: "length", length: 999_999_999_999_999 });
});

test("conflicting or malformed Content-Length values are rejected with 400", () => {
  rejects(["POST / HTTP/1.1", "Host: h", "Content-Length: 5", "Content-Length: 6"], 400, "conflicting Content-Length");
  rejects(["POST / HTTP/1.1", "Host: h", "Content-Length: 5, 6"], 400, "conflicting Content-Length");
  for (const value of ["-1", "+5", "5x", "0x10", "1.5", "", "5 5", "1000000000000000"]) {
    expect({ value, status: statusOf(["POST / HTTP/1.1", "Host: h", `Content-Length: ${value}`]) }).toEqual({ value, status: 400 });
  }
});

test("Transfer-Encoding: chunked frames the body (any case, split over header lines)", () => {
  expect(head(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: chunked"]).framing).toEqual({ kind: "chunked" });
  expect(head(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: Chunked "]).framing).toEqual({ kind: "chunked" });
  expect(head(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: ", "Transfer-Encoding: chunked"]).framing).toEqual({ kind: "chunked" });
});

test("Transfer-Encoding together with Content-Length is rejected with 400 (request smuggling)", () => {
  rejects(["POST / HTTP/1.1", "Host: h", "Content-Length: 5", "Transfer-Encoding: chunked"], 400, "both Transfer-Encoding and Content-Length");
  rejects(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: chunked", "Content-Length: 0"], 400, "both Transfer-Encoding and Content-Length");
});

test("Transfer-Encoding on an HTTP/1.0 request is rejected with 400", () => {
  rejects(["POST / HTTP/1.0", "Transfer-Encoding: chunked"], 400, "HTTP/1.0 request with Transfer-Encoding");
});

test("a coding under chunked is answered 501; a Transfer-Encoding not ending in chunked is rejected with 400", () => {
  rejects(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: gzip, chunked"], 501, "gzip, chunked");
  rejects(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: gzip", "Transfer-Encoding: chunked"], 501);
  rejects(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: chunked, gzip"], 400, "does not end in chunked");
  rejects(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: gzip"], 400, "does not end in chunked");
  rejects(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: identity"], 400, "does not end in chunked");
  rejects(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: "], 400, "does not end in chunked");
  rejects(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: xchunked"], 400, "does not end in chunked");
});

// Expect

test("Expect: 100-continue is honoured only for an HTTP/1.1 request with a body", () => {
  expect(head(["POST / HTTP/1.1", "Host: h", "Content-Length: 5", "Expect: 100-continue"]).expectContinue).toBe(true);
  expect(head(["POST / HTTP/1.1", "Host: h", "Transfer-Encoding: chunked", "Expect: 100-Continue"]).expectContinue).toBe(true);
  // No body: nothing to wait for.
  expect(head(["GET / HTTP/1.1", "Host: h", "Expect: 100-continue"]).expectContinue).toBe(false);
  expect(head(["POST / HTTP/1.1", "Host: h", "Content-Length: 0", "Expect: 100-continue"]).expectContinue).toBe(false);
  // HTTP/1.0 clients do not know interim answers (RFC 9110 §10.1.1: ignore the expectation).
  expect(head(["POST / HTTP/1.0", "Content-Length: 5", "Expect: 100-continue"]).expectContinue).toBe(false);
});

test("any other expectation is answered 417 Expectation Failed", () => {
  rejects(["POST / HTTP/1.1", "Host: h", "Content-Length: 5", "Expect: 200-ok"], 417, "cannot be met");
  rejects(["GET / HTTP/1.1", "Host: h", "Expect: something"], 417);
  rejects(["GET / HTTP/1.0", "Expect: 100-continue, other"], 417);
});

// Keep-alive

test("HTTP/1.1 keeps the connection unless a Connection token says close", () => {
  expect(head(["GET / HTTP/1.1", "Host: h"]).keepAlive).toBe(true);
  expect(head(["GET / HTTP/1.1", "Host: h", "Connection: keep-alive"]).keepAlive).toBe(true);
  expect(head(["GET / HTTP/1.1", "Host: h", "Connection: close"]).keepAlive).toBe(false);
  expect(head(["GET / HTTP/1.1", "Host: h", "Connection: Upgrade, CLOSE"]).keepAlive).toBe(false);
  expect(head(["GET / HTTP/1.1", "Host: h", "Connection: keep-alive", "Connection: close"]).keepAlive).toBe(false);
  expect(head(["GET / HTTP/1.1", "Host: h", "Connection: closed"]).keepAlive).toBe(true);
});

test("HTTP/1.0 keeps the connection only when it asked with Connection: keep-alive (and not close)", () => {
  expect(head(["GET / HTTP/1.0"]).keepAlive).toBe(false);
  expect(head(["GET / HTTP/1.0", "Connection: Keep-Alive"]).keepAlive).toBe(true);
  expect(head(["GET / HTTP/1.0", "Connection: foo , keep-alive"]).keepAlive).toBe(true);
  expect(head(["GET / HTTP/1.0", "Connection: keep-alive, close"]).keepAlive).toBe(false);
});

// Bytes that could be read two ways

test("a bare CR or LF, or a control character, anywhere in the head is rejected with 400", () => {
  const bad = [
    "GET / HTTP/1.1\r\nHost: h\nX-Smuggle: 1",
    "GET / HTTP/1.1\r\nHost: h\rX-Smuggle: 1",
    "GET / HTTP/1.1\nHost: h",
    "GET /\x00 HTTP/1.1\r\nHost: h",
    "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x00b",
    "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7fb",
    "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x1bb",
    "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r",
  ];
  for (const text of bad) {
    let status: number | "ok" = "ok";
    try {
      parseRequestHead(text);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      status = error.status;
    }
    expect({ text, status }).toEqual({ text, status: 400 });
  }
  // A tab inside a value is fine.
  expect(parseRequestHead("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\tb").headers[1]).toEqual(["x-a", "a\tb"]);
});

test("malformed header lines (obs-fold, space before the colon, no name, no colon) are rejected with 400", () => {
  rejects(["GET / HTTP/1.1", "Host: h", "X-A: 1", " folded"], 400, "malformed header line");
  rejects(["GET / HTTP/1.1", "Host: h", "X-A : 1"], 400, "malformed header line");
  rejects(["GET / HTTP/1.1", "Host: h", ": 1"], 400, "malformed header line");
  rejects(["GET / HTTP/1.1", "Host: h", "NoColon"], 400, "malformed header line");
  rejects(["GET / HTTP/1.1", "Host h"], 400, "malformed header line");
});

test("an empty header value is allowed", () => {
  expect(head(["GET / HTTP/1.1", "Host: h", "X-Empty:"]).headers[1]).toEqual(["x-empty", ""]);
});
