import { expect, test } from "bun:test";
import { ParseError, findHeadEnd, parseHead } from "./head-parser.ts";

const head = (lines: string[], method = "GET") => parseHead(lines.join("\r\n"), method);

test("parses the status line and fields in order, names lower-cased, values stripped of spaces and tabs", () => {
  const parsed = head(["HTTP/1.1 404 Not Found", "Content-Type: text/plain", "X-Multi:  a, b \t", "Set-Cookie: x=1", "set-cookie: y=2", "Content-Length: 3"]);
  expect(parsed.status).toBe(404);
  expect(parsed.reason).toBe("Not Found");
  expect(parsed.minor).toBe(1);
  expect(parsed.headers).toEqual([
    ["content-type", "text/plain"],
    ["x-multi", "a, b"],
    ["set-cookie", "x=1"],
    ["set-cookie", "y=2"],
    ["content-length", "3"],
  ]);
  expect(parsed.framing).toEqual({ kind: "length", length: 3 });
  expect(parsed.contentLength).toBe(3);
  expect(parsed.keepAlive).toBe(true);
});

test("a missing reason phrase is allowed; obs-text (0x80-0xFF) in values survives", () => {
  const parsed = head(["HTTP/1.1 200", "X-Latin: caf\xe9\xa0", "Content-Length: 0"]);
  expect(parsed.reason).toBe("");
  expect(parsed.headers[0]).toEqual(["x-latin", "caf\xe9\xa0"]);
});

test("framing: chunked, close-delimited, and none for HEAD, 1xx, 204 and 304", () => {
  expect(head(["HTTP/1.1 200 OK", "Transfer-Encoding: Chunked"]).framing).toEqual({ kind: "chunked" });
  const close = head(["HTTP/1.1 200 OK"]);
  expect(close.framing).toEqual({ kind: "close" });
  expect(close.keepAlive).toBe(false);
  expect(head(["HTTP/1.1 200 OK", "Content-Length: 10"], "HEAD").framing).toEqual({ kind: "none" });
  expect(head(["HTTP/1.1 200 OK", "Content-Length: 10"], "HEAD").contentLength).toBe(10);
  expect(head(["HTTP/1.1 100 Continue"]).framing).toEqual({ kind: "none" });
  expect(head(["HTTP/1.1 204 No Content"]).framing).toEqual({ kind: "none" });
  expect(head(["HTTP/1.1 304 Not Modified", "Content-Length: 99"]).framing).toEqual({ kind: "none" });
});

test("keep-alive: HTTP/1.1 unless Connection: close; HTTP/1.0 only with Connection: keep-alive", () => {
  expect(head(["HTTP/1.1 200 OK", "Connection: Keep-Alive, close", "Content-Length: 0"]).keepAlive).toBe(false);
  expect(head(["HTTP/1.0 200 OK", "Content-Length: 0"]).keepAlive).toBe(false);
  expect(head(["HTTP/1.0 200 OK", "Connection: keep-alive", "Content-Length: 0"]).keepAlive).toBe(true);
});

test("repeated Content-Length values that agree are one length; ones that differ are rejected", () => {
  expect(head(["HTTP/1.1 200 OK", "Content-Length: 5, 5", "Content-Length: 005"]).framing).toEqual({ kind: "length", length: 5 });
  expect(() => head(["HTTP/1.1 200 OK", "Content-Length: 5", "Content-Length: 6"])).toThrow(ParseError);
  expect(() => head(["HTTP/1.1 200 OK", "Content-Length: 5, 6"])).toThrow("conflicting Content-Length");
});

test("framing that could be read two ways is rejected (request smuggling hygiene)", () => {
  const rejects = (lines: string[], message: string) => expect(() => head(lines)).toThrow(message);
  rejects(["HTTP/1.1 200 OK", "Content-Length: 5", "Transfer-Encoding: chunked"], "both Transfer-Encoding and Content-Length");
  rejects(["HTTP/1.1 204 No Content", "Content-Length: 0", "Transfer-Encoding: chunked"], "both");
  rejects(["HTTP/1.1 200 OK", "Transfer-Encoding: gzip, chunked"], "unsupported Transfer-Encoding");
  rejects(["HTTP/1.1 200 OK", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"], "unsupported Transfer-Encoding");
  rejects(["HTTP/1.1 200 OK", "Transfer-Encoding: identity"], "unsupported Transfer-Encoding");
  rejects(["HTTP/1.0 200 OK", "Transfer-Encoding: chunked"], "HTTP/1.0 response with Transfer-Encoding");
  rejects(["HTTP/1.1 200 OK", "Content-Length: -1"], "invalid Content-Length");
  rejects(["HTTP/1.1 200 OK", "Content-Length: 1e3"], "invalid Content-Length");
  rejects(["HTTP/1.1 200 OK", "Content-Length: 9999999999999999"], "invalid Content-Length");
  rejects(["HTTP/1.1 200 OK", "Content-Length: "], "invalid Content-Length");
});

test("malformed status lines and field lines are rejected", () => {
  for (const status of ["HTTP/2 200 OK", "HTTP/1.1 20 OK", "HTTP/1.1 2000 OK", "http/1.1 200 OK", "ICY 200 OK", "HTTP/1.1  200 OK", "HTTP/1.1 099 X", ""]) {
    expect(() => head([status, "Content-Length: 0"])).toThrow("malformed status line");
  }
  for (const field of ["No-Colon", ": empty-name", "Space Before: x", "Tab\t: x", " folded: continuation", "Bad(Name): x"]) {
    expect(() => head(["HTTP/1.1 200 OK", field])).toThrow("malformed header line");
  }
  for (const bad of ["X: a\rb", "X: a\nb", "X: a\0b", "X: \x01"]) {
    expect(() => head(["HTTP/1.1 200 OK", bad])).toThrow("bare CR/LF or a control character");
  }
  expect(() => head(["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket"])).toThrow("101");
});

test("findHeadEnd returns the index after the first CRLFCRLF starting at or after `from`", () => {
  const bytes = Buffer.from("HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody\r\n\r\n");
  expect(findHeadEnd(bytes, 0)).toBe(25);
  expect(findHeadEnd(bytes, 21)).toBe(25); // the terminator starts at 21
  expect(findHeadEnd(bytes, 22)).toBe(33);
  expect(findHeadEnd(bytes, 21, 24)).toBe(-1);
  expect(findHeadEnd(bytes.subarray(0, 24), 0)).toBe(-1);
  expect(findHeadEnd(new Uint8Array(0), -3)).toBe(-1);
});
