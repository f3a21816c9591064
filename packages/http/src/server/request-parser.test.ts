import { expect, test } from "bun:test";
import { ParseError } from "../head-parser.ts";
import type { RequestHead } from "./request-head.ts";
import { type RequestLimits, RequestParser } from "./request-parser.ts";

const NO_LIMITS: RequestLimits = { maxHeadBytes: 64 * 1024, maxBodyBytes: Number.POSITIVE_INFINITY };

interface Recorder {
  parser: RequestParser;
  heads: RequestHead[];
  chunks: Uint8Array[];
  /** The decoded body so far, as latin1 text. */
  body(): string;
}

function recorder(limits: Partial<RequestLimits> = {}): Recorder {
  const heads: RequestHead[] = [];
  const chunks: Uint8Array[] = [];
  // Body bytes are views of the read: copy them, as a caller that keeps them must.
  const parser = new RequestParser({ onHead: (head) => heads.push(head), onBody: (bytes) => chunks.push(bytes.slice()) }, { ...NO_LIMITS, ...limits });
  return { parser, heads, chunks, body: () => Buffer.concat(chunks).toString("latin1") };
}

interface Parsed {
  heads: RequestHead[];
  body: string;
  done: boolean;
  /** What the last push returned. */
  end: number;
}

/** Feeds the pieces one after another into a fresh parser. */
function parse(pieces: Uint8Array[], limits: Partial<RequestLimits> = {}): Parsed {
  const r = recorder(limits);
  let end = 0;
  for (const piece of pieces) end = r.parser.push(piece);
  return { heads: r.heads, body: r.body(), done: r.parser.done, end };
}

const bytes = (text: string) => Buffer.from(text, "latin1");

/** Every way to cut `all` in two, then the same in one byte per read. */
function cuts(all: Uint8Array): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  for (let cut = 0; cut <= all.length; cut++) out.push([all.subarray(0, cut), all.subarray(cut)]);
  out.push([...all].map((b) => new Uint8Array([b])));
  return out;
}

const CASES: Array<{ wire: string; method: string; target: string; body: string }> = [
  { wire: "GET /a?b=1 HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n", method: "GET", target: "/a?b=1", body: "" },
  { wire: "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world", method: "POST", target: "/up", body: "hello world" },
  { wire: "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\nA\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n", method: "PUT", target: "/c", body: "abcde0123456789" },
  { wire: "POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", method: "POST", target: "/c", body: "" },
  { wire: "GET /old HTTP/1.0\r\n\r\n", method: "GET", target: "/old", body: "" },
  // A CRLF some clients send after a POST body, before the next request line.
  { wire: "\r\n\r\nDELETE /x HTTP/1.1\r\nHost: h\r\n\r\n", method: "DELETE", target: "/x", body: "" },
];

test("a request parses the same however its bytes are cut, and is never done before its last byte", () => {
  for (const { wire, method, target, body } of CASES) {
    const all = bytes(wire);
    for (const pieces of cuts(all)) {
      const result = parse(pieces);
      expect(result.heads.map((h) => [h.method, h.target])).toEqual([[method, target]]);
      expect(result.body).toBe(body);
      expect(result.done).toBe(true);
      expect(result.end).toBe(pieces[pieces.length - 1]!.length);
    }
    for (let cut = 0; cut < all.length; cut++) expect(parse([all.subarray(0, cut)]).done).toBe(false);
  }
});

test("empty lines before a request line are ignored and do not count as a started head", () => {
  const r = recorder();
  expect(r.parser.push(bytes("\r\n\r\n\r\n"))).toBe(6);
  expect(r.parser.headStarted).toBe(false);
  expect(r.heads).toHaveLength(0);
  r.parser.push(bytes("GET / HTTP/1.1\r\nHo"));
  expect(r.parser.headStarted).toBe(true);
  r.parser.push(bytes("st: h\r\n\r\n"));
  expect(r.heads.map((h) => h.target)).toEqual(["/"]);
  expect(r.parser.headStarted).toBe(false);
  expect(r.parser.done).toBe(true);
});

test("push stops at the end of a request and returns where the pipelined next one starts", () => {
  const first = "POST /1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
  const second = "GET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
  const wire = bytes(first + second);
  const r = recorder();
  const end = r.parser.push(wire);
  expect(end).toBe(first.length);
  expect(r.parser.done).toBe(true);
  expect(r.heads.map((h) => h.target)).toEqual(["/1"]);
  expect(r.body()).toBe("abc");
  // Until reset, a done parser takes nothing more.
  expect(r.parser.push(wire, end)).toBe(end);
  expect(r.heads).toHaveLength(1);

  r.parser.reset();
  expect(r.parser.done).toBe(false);
  expect(r.parser.push(wire, end)).toBe(wire.length);
  expect(r.heads.map((h) => h.target)).toEqual(["/1", "/2"]);
  expect(r.parser.done).toBe(true);
});

test("three pipelined requests (bodiless, chunked, length) come out one by one after each reset", () => {
  const wire = bytes(
    "GET /a HTTP/1.1\r\nHost: h\r\n\r\n" +
      "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n" +
      "\r\n" +
      "PUT /c HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nyo",
  );
  const ways = cuts(wire);
  // Whole, cut inside the first request's successor, and one byte per read.
  for (const pieces of [[wire], ways[40]!, ways[ways.length - 1]!]) {
    const r = recorder();
    const bodies: string[] = [];
    let taken = 0;
    for (const piece of pieces) {
      let at = 0;
      while (at < piece.length) {
        at = r.parser.push(piece, at);
        if (r.parser.done) {
          bodies.push(r.body());
          r.chunks.length = 0;
          r.parser.reset();
        }
      }
      taken += piece.length;
    }
    expect(taken).toBe(wire.length);
    expect(r.heads.map((h) => `${h.method} ${h.target}`)).toEqual(["GET /a", "POST /b", "PUT /c"]);
    expect(bodies).toEqual(["", "hi", "yo"]);
  }
});

test("body bytes are handed out as views of the read, without a copy", () => {
  const wire = bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nbody");
  const views: Uint8Array[] = [];
  const parser = new RequestParser({ onHead: () => {}, onBody: (b) => views.push(b) }, NO_LIMITS);
  parser.push(wire);
  expect(views).toHaveLength(1);
  expect(views[0]!.buffer).toBe(wire.buffer);
  expect(Buffer.from(views[0]!).toString()).toBe("body");
});

test("a malformed head or chunked body throws a ParseError with status 400 (or the head's own status)", () => {
  const statusOf = (wire: string): number | "ok" => {
    try {
      parse([bytes(wire)]);
      return "ok";
    } catch (error) {
      if (error instanceof ParseError) return error.status;
      throw error;
    }
  };
  expect(statusOf("GET / HTTP/1.1\r\n\r\n")).toBe(400);
  expect(statusOf("GET / HTTP/2.0\r\nHost: h\r\n\r\n")).toBe(505);
  expect(statusOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n")).toBe(501);
  expect(statusOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")).toBe(400);
  expect(statusOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX")).toBe(400);
  expect(statusOf("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\nabc\r\n")).toBe(400);
});

// Limits

test("a head larger than maxHeadBytes is refused with 431, whole or in pieces; one that fits exactly is read", () => {
  const wire = bytes(`GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${"a".repeat(2000)}\r\n\r\n`);
  const status = (pieces: Uint8Array[], maxHeadBytes: number): number | "ok" => {
    try {
      parse(pieces, { maxHeadBytes });
      return "ok";
    } catch (error) {
      if (error instanceof ParseError) return error.status;
      throw error;
    }
  };
  // The limit counts the whole head, blank line included.
  expect(status([wire], wire.length)).toBe("ok");
  expect(status([wire], wire.length - 1)).toBe(431);
  for (const pieces of [[wire.subarray(0, 10), wire.subarray(10)], [wire.subarray(0, wire.length - 1), wire.subarray(wire.length - 1)]]) {
    expect(status(pieces, wire.length)).toBe("ok");
    expect(status(pieces, wire.length - 1)).toBe(431);
  }
  const hundreds: Uint8Array[] = [];
  for (let at = 0; at < wire.length; at += 100) hundreds.push(wire.subarray(at, at + 100));
  expect(status(hundreds, 1000)).toBe(431);
  expect(() => parse([wire], { maxHeadBytes: 1000 })).toThrow("request head larger than 1000 bytes");
});

test("leading empty lines do not count against maxHeadBytes", () => {
  const request = "GET / HTTP/1.1\r\nHost: h\r\n\r\n";
  const result = parse([bytes(`\r\n\r\n${request}`)], { maxHeadBytes: request.length });
  expect(result.heads).toHaveLength(1);
});

test("a head that never ends is refused with 431 as soon as it passes the limit, without waiting for more", () => {
  // In one read far larger than the limit: refused on that read.
  const flood = new Uint8Array(8 * 1024 * 1024).fill(0x61);
  expect(() => parse([bytes("GET / HTTP/1.1\r\n"), flood], { maxHeadBytes: 1024 })).toThrow("larger than 1024");
  expect(() => parse([flood], { maxHeadBytes: 1024 })).toThrow("larger than 1024");

  // In pieces: the read that crosses the limit throws; the ones before it do not.
  const r = recorder({ maxHeadBytes: 1024 });
  r.parser.push(bytes("GET / HTTP/1.1\r\nX: ")); // 19 bytes
  for (let i = 0; i < 10; i++) r.parser.push(new Uint8Array(100).fill(0x61)); // 1019: still within
  expect(r.parser.headStarted).toBe(true);
  let thrown: unknown;
  try {
    r.parser.push(new Uint8Array(100).fill(0x61));
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ParseError);
  expect((thrown as ParseError).status).toBe(431);
  expect(r.heads).toHaveLength(0);
});

test("a declared Content-Length over maxBodyBytes is refused with 413 before the head is handed out", () => {
  const r = recorder({ maxBodyBytes: 10 });
  let thrown: unknown;
  try {
    r.parser.push(bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\n"));
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ParseError);
  expect((thrown as ParseError).status).toBe(413);
  expect((thrown as ParseError).message).toContain("larger than 10 bytes");
  expect(r.heads).toHaveLength(0);
  // Exactly the limit is fine.
  expect(parse([bytes("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789")], { maxBodyBytes: 10 }).body).toBe("0123456789");
});

test("a chunked body is refused with 413 as it passes maxBodyBytes, before the excess is handed out", () => {
  const r = recorder({ maxBodyBytes: 10 });
  r.parser.push(bytes("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n"));
  expect(r.heads).toHaveLength(1);
  expect(r.body()).toBe("abcdef");
  r.parser.push(bytes("4\r\nghij\r\n")); // 10: still fits
  expect(r.body()).toBe("abcdefghij");
  let thrown: unknown;
  try {
    r.parser.push(bytes("1\r\nk\r\n0\r\n\r\n"));
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ParseError);
  expect((thrown as ParseError).status).toBe(413);
  expect(r.body()).toBe("abcdefghij");
  expect(r.parser.done).toBe(false);
});

test("the body limit applies per request: reset starts the count again", () => {
  const one = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n0\r\n\r\n";
  const wire = bytes(one + one);
  const r = recorder({ maxBodyBytes: 8 });
  const end = r.parser.push(wire);
  expect(r.parser.done).toBe(true);
  r.parser.reset();
  expect(r.parser.push(wire, end)).toBe(wire.length);
  expect(r.parser.done).toBe(true);
  expect(r.body()).toBe("1234567812345678");
});
