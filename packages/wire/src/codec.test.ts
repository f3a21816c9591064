import { describe, expect, test } from "bun:test";
import { decodeBody, DEFAULT_MAX_FRAME, encodeBody, encodeFrame, HEADER_BYTES } from "./codec.ts";
import { WireError } from "./errors.ts";
import type { Message } from "./messages.ts";
import { catchError, SAMPLES } from "./_test-fixtures.ts";

function header(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0);
}

describe("encodeFrame", () => {
  test("is a 4-byte big-endian length followed by exactly that many body bytes", () => {
    for (const message of SAMPLES) {
      const frame = encodeFrame(message);
      const body = encodeBody(message);
      expect(header(frame)).toBe(body.length);
      expect(frame.length).toBe(HEADER_BYTES + body.length);
      expect(frame.subarray(HEADER_BYTES)).toEqual(body);
    }
  });

  test("writes lengths above 16 bits in network byte order", () => {
    const frame = encodeFrame({ t: "res", id: 1, body: "x".repeat(70_000) });
    const length = frame.length - HEADER_BYTES;
    expect(length).toBeGreaterThan(0xffff);
    expect([...frame.subarray(0, 4)]).toEqual([length >>> 24, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff]);
  });

  test("bodies are plain MessagePack maps (no msgpackr records or extensions), so other libraries can read them", () => {
    for (const message of SAMPLES) {
      const first = encodeBody(message)[0]!;
      const isMap = (first >= 0x80 && first <= 0x8f) || first === 0xde || first === 0xdf;
      expect(isMap).toBe(true);
    }
    // A fixmap written by hand (as any MessagePack library would) decodes to the same message.
    const text = new TextEncoder();
    const str = (s: string) => [0xa0 | s.length, ...text.encode(s)];
    const handMade = new Uint8Array([0x82, ...str("t"), ...str("ping"), ...str("id"), 0x05]);
    expect(decodeBody(handMade)).toEqual({ t: "ping", id: 5 });
  });

  test("the default maximum frame is 1 MiB", () => {
    expect(DEFAULT_MAX_FRAME).toBe(1024 * 1024);
  });
});

describe("decodeBody", () => {
  test("round-trips every message kind", () => {
    for (const message of SAMPLES) {
      expect(decodeBody(encodeBody(message))).toEqual(message);
    }
  });

  test("binary bodies come back as bytes", () => {
    const decoded = decodeBody(encodeBody({ t: "res", id: 1, body: new Uint8Array([9, 8, 7]) })) as { body: Uint8Array };
    expect(decoded.body).toBeInstanceOf(Uint8Array);
    expect([...decoded.body]).toEqual([9, 8, 7]);
  });

  const undecodable: [string, number[]][] = [
    ["an empty body", []],
    ["a map cut short", [0x82, 0xa1, 0x74]],
    ["a string whose declared length runs past the body", [0xdb, 0xff, 0xff, 0xff, 0xff, 0x61]],
    ["a complete value followed by stray bytes", [0x80, 0x01]],
  ];
  for (const [name, bytes] of undecodable) {
    test(`rejects ${name} as bad_frame`, () => {
      const error = catchError(() => decodeBody(new Uint8Array(bytes)));
      expect(error).toBeInstanceOf(WireError);
      expect((error as WireError).code).toBe("bad_frame");
      expect((error as WireError).message).toContain("not valid MessagePack");
    });
  }

  test("rejects valid MessagePack that is not a message as bad_message, keeping the request id", () => {
    const error = catchError(() => decodeBody(encodeBody({ t: "req", id: 42, op: "" } as unknown as Message)));
    expect(error).toBeInstanceOf(WireError);
    expect((error as WireError).code).toBe("bad_message");
    expect((error as WireError).requestId).toBe(42);
  });
});
