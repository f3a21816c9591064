import { expect, test } from "bun:test";
import { ChunkedDecoder } from "./chunked-decoder.ts";
import { ParseError } from "./head-parser.ts";

/** Decodes `wire` fed in the given pieces; returns the body and where the body ended in the last piece. */
function decode(pieces: Uint8Array[]): { body: string; done: boolean; end: number } {
  const out: Uint8Array[] = [];
  const decoder = new ChunkedDecoder((bytes) => out.push(bytes.slice()));
  let end = 0;
  for (const piece of pieces) end = decoder.push(piece, 0);
  return { body: Buffer.concat(out).toString("latin1"), done: decoder.done, end };
}

const bytes = (text: string) => Buffer.from(text, "latin1");

const CASES: Array<[string, string]> = [
  ["5\r\nhello\r\n0\r\n\r\n", "hello"],
  ["5;name=value;flag\r\nhello\r\n6 ; x=\"y\"\r\n world\r\n0\r\n\r\n", "hello world"],
  ["A\r\n0123456789\r\na\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij"],
  ["3\r\nabc\r\n0\r\nExpires: never\r\nX-Checksum: 1\r\n\r\n", "abc"],
  ["0\r\n\r\n", ""],
  ["000\r\n\r\n", ""],
];

test("decodes bodies with extensions and trailers, the same however the bytes are cut", () => {
  for (const [wire, expected] of CASES) {
    const all = bytes(wire);
    expect(decode([all])).toEqual({ body: expected, done: true, end: all.length });
    for (let cut = 0; cut <= all.length; cut++) {
      const result = decode([all.subarray(0, cut), all.subarray(cut)]);
      expect(result.body).toBe(expected);
      expect(result.done).toBe(true);
    }
    // Every prefix is incomplete, never an error.
    for (let cut = 0; cut < all.length; cut++) expect(decode([all.subarray(0, cut)]).done).toBe(false);
    const oneByOne = decode([...all].map((b) => new Uint8Array([b])));
    expect(oneByOne.body).toBe(expected);
  }
});

test("stops at the end of the body and reports where, leaving what follows", () => {
  const wire = bytes("2\r\nok\r\n0\r\n\r\nHTTP/1.1 200 OK");
  expect(decode([wire]).end).toBe(12);
});

test("rejects malformed framing", () => {
  const rejects = (wire: string) => expect(() => decode([bytes(wire)])).toThrow(ParseError);
  rejects("x\r\n");
  rejects("\r\n");
  rejects("-1\r\n");
  rejects("5\nhello\r\n"); // bare LF
  rejects("5\r\nhelloXY0\r\n\r\n"); // data not followed by CRLF
  rejects("5\r\nhello\n0\r\n\r\n");
  rejects("5;ext\nhello"); // bare LF after an extension
  rejects("1234567890abc\r\n"); // 13 hex digits: too large
  rejects(`1;${"e".repeat(5000)}\r\n`);
  rejects("0\r\nBad Trailer\r\n\r\n");
  rejects("0\r\nX: a\rb\r\n\r\n");
});

test("an endless trailer section is rejected without buffering all of it", () => {
  const decoder = new ChunkedDecoder(() => {});
  decoder.push(bytes("0\r\n"), 0);
  const flood = bytes(`X: ${"a".repeat(1 << 20)}`);
  expect(() => decoder.push(flood, 0)).toThrow("trailers too large");
});
