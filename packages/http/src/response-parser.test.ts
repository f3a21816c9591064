import { expect, test } from "bun:test";
import { ParseError, type ResponseHead } from "./head-parser.ts";
import { ResponseParser } from "./response-parser.ts";

interface Parsed {
  heads: ResponseHead[];
  body: string;
  done: boolean;
  extra: number;
}

function parse(pieces: Uint8Array[], method = "GET", maxHead?: number, eof = false): Parsed {
  const result: Parsed = { heads: [], body: "", done: false, extra: 0 };
  const chunks: Uint8Array[] = [];
  const parser = new ResponseParser({ onHead: (head) => result.heads.push(head), onBody: (b) => chunks.push(b.slice()) }, method, maxHead);
  for (const piece of pieces) result.extra = parser.push(piece);
  if (eof) parser.eof();
  result.done = parser.done;
  result.body = Buffer.concat(chunks).toString("latin1");
  return result;
}

const bytes = (text: string) => Buffer.from(text, "latin1");

const CASES: Array<{ wire: string; method?: string; status: number; body: string; eof?: boolean }> = [
  { wire: "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", status: 200, body: "hello" },
  { wire: "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x\r\nde\r\n0\r\nT: 1\r\n\r\n", status: 200, body: "abcde" },
  { wire: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok", status: 201, body: "ok" },
  { wire: "HTTP/1.1 204 No Content\r\n\r\n", status: 204, body: "" },
  { wire: "HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n", method: "HEAD", status: 200, body: "" },
  { wire: "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", status: 200, body: "" },
  { wire: "HTTP/1.0 200 OK\r\n\r\nuntil the end", status: 200, body: "until the end", eof: true },
];

test("parses responses the same however the bytes are cut, and never completes early", () => {
  for (const { wire, method, status, body, eof } of CASES) {
    const all = bytes(wire);
    for (let cut = 0; cut <= all.length; cut++) {
      const result = parse([all.subarray(0, cut), all.subarray(cut)], method, undefined, eof);
      expect(result.heads.map((h) => h.status)).toEqual([status]);
      expect(result.body).toBe(body);
      expect(result.done).toBe(true);
      expect(result.extra).toBe(0);
    }
    for (let cut = 0; cut < all.length; cut++) expect(parse([all.subarray(0, cut)], method).done).toBe(false);
    expect(parse([...all].map((b) => new Uint8Array([b])), method, undefined, eof).body).toBe(body);
  }
});

test("reports bytes that follow the end of the response", () => {
  const result = parse([bytes("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokEXTRA")]);
  expect(result.body).toBe("ok");
  expect(result.extra).toBe(5);
});

test("a close-delimited body ends only at EOF; a length-delimited one cut short does not end", () => {
  expect(parse([bytes("HTTP/1.1 200 OK\r\n\r\nabc")]).done).toBe(false);
  expect(parse([bytes("HTTP/1.1 200 OK\r\n\r\nabc")], "GET", undefined, true).done).toBe(true);
  expect(parse([bytes("HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nabc")], "GET", undefined, true).done).toBe(false);
});

test("a head larger than the limit is rejected, whole or in pieces, without buffering past it", () => {
  const big = bytes(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(70 * 1024)}\r\nContent-Length: 0\r\n\r\n`);
  expect(() => parse([big])).toThrow("response head larger than 65536 bytes");
  const pieces: Uint8Array[] = [];
  for (let at = 0; at < big.length; at += 1000) pieces.push(big.subarray(at, at + 1000));
  expect(() => parse(pieces)).toThrow(ParseError);
  // An endless head with no terminator at all.
  expect(() => parse([bytes("HTTP/1.1 200 OK\r\n"), new Uint8Array(70 * 1024).fill(0x61)])).toThrow("larger than");
  // Just under the limit is fine.
  const fits = bytes(`HTTP/1.1 200 OK\r\nX: ${"a".repeat(1000)}\r\nContent-Length: 0\r\n\r\n`);
  expect(parse([fits], "GET", fits.length).done).toBe(true);
  expect(() => parse([fits], "GET", fits.length - 1)).toThrow("larger than");
  expect(() => parse([fits.subarray(0, 10), fits.subarray(10)], "GET", fits.length - 1)).toThrow("larger than");
});
