import { describe, expect, test } from "bun:test";
import { encodeBody, encodeFrame, HEADER_BYTES } from "./codec.ts";
import { WireError } from "./errors.ts";
import { FrameReader } from "./frame-reader.ts";
import type { Message } from "./messages.ts";
import { SAMPLES, seededRandom } from "./_test-fixtures.ts";

interface Seen {
  messages: Message[];
  errors: { code: string; fatal: boolean; requestId: number; message: string }[];
}

function collect(maxFrame?: number): { reader: FrameReader; seen: Seen } {
  const seen: Seen = { messages: [], errors: [] };
  const reader = new FrameReader({
    ...(maxFrame === undefined ? {} : { maxFrame }),
    onMessage: (message) => seen.messages.push(message),
    onError: (error, fatal) => {
      expect(error).toBeInstanceOf(WireError);
      seen.errors.push({ code: error.code, fatal, requestId: error.requestId, message: error.message });
    },
  });
  return { reader, seen };
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A frame around arbitrary body bytes (valid MessagePack or not). */
function rawFrame(body: Uint8Array | number[]): Uint8Array {
  const bytes = body instanceof Uint8Array ? body : new Uint8Array(body);
  const frame = new Uint8Array(HEADER_BYTES + bytes.length);
  new DataView(frame.buffer).setUint32(0, bytes.length);
  frame.set(bytes, HEADER_BYTES);
  return frame;
}

function lengthPrefix(length: number): Uint8Array {
  const head = new Uint8Array(HEADER_BYTES);
  new DataView(head.buffer).setUint32(0, length);
  return head;
}

describe("FrameReader: whole frames", () => {
  test("round-trips every message kind through encodeFrame", () => {
    for (const message of SAMPLES) {
      const { reader, seen } = collect();
      reader.push(encodeFrame(message));
      expect(seen.errors).toEqual([]);
      expect(seen.messages).toEqual([message]);
      expect(reader.buffered).toBe(0);
    }
  });

  test("decodes several frames that arrive in one chunk, in order", () => {
    const { reader, seen } = collect();
    reader.push(concat(...SAMPLES.map(encodeFrame)));
    expect(seen.errors).toEqual([]);
    expect(seen.messages).toEqual([...SAMPLES]);
    expect(reader.buffered).toBe(0);
  });

  test("decodes a frame delivered in a subarray of a larger buffer (non-zero byteOffset)", () => {
    const frame = encodeFrame(SAMPLES[1]!);
    const backing = new Uint8Array(frame.length + 20).fill(0xee);
    backing.set(frame, 10);
    const { reader, seen } = collect();
    reader.push(backing.subarray(10, 10 + frame.length));
    expect(seen.messages).toEqual([SAMPLES[1]!]);
  });

  test("an empty chunk changes nothing", () => {
    const { reader, seen } = collect();
    const frame = encodeFrame(SAMPLES[0]!);
    reader.push(frame.subarray(0, 2));
    reader.push(new Uint8Array(0));
    reader.push(frame.subarray(2));
    expect(seen.messages).toEqual([SAMPLES[0]!]);
  });

  test("a frame of exactly maxFrame bytes is accepted", () => {
    const message: Message = { t: "res", id: 1, body: "" };
    const base = encodeBody(message).length;
    // Grow the string until the body is exactly 300 bytes (str8 header adds one byte past 31 chars).
    let pad = 300 - base;
    let sized: Message = { t: "res", id: 1, body: "x".repeat(pad) };
    while (encodeBody(sized).length > 300) sized = { t: "res", id: 1, body: "x".repeat(--pad) };
    expect(encodeBody(sized).length).toBe(300);
    const { reader, seen } = collect(300);
    reader.push(encodeFrame(sized));
    expect(seen.errors).toEqual([]);
    expect(seen.messages).toEqual([sized]);
  });
});

describe("FrameReader: frames split anywhere", () => {
  test("every frame split at every byte boundary gives exactly the original message", () => {
    for (const message of SAMPLES) {
      const frame = encodeFrame(message);
      for (let cut = 0; cut <= frame.length; cut++) {
        const { reader, seen } = collect();
        reader.push(frame.subarray(0, cut));
        // Until the last byte arrives, nothing is delivered: a clean "incomplete".
        if (cut < frame.length) {
          expect(seen.messages).toEqual([]);
          expect(reader.buffered).toBe(cut);
        }
        reader.push(frame.subarray(cut));
        expect(seen.errors).toEqual([]);
        expect(seen.messages).toEqual([message]);
        expect(reader.buffered).toBe(0);
      }
    }
  });

  test("a stream of every frame cut at every boundary of the whole stream decodes in order", () => {
    const stream = concat(...SAMPLES.map(encodeFrame));
    for (let cut = 0; cut <= stream.length; cut++) {
      const { reader, seen } = collect();
      reader.push(stream.subarray(0, cut));
      reader.push(stream.subarray(cut));
      expect(seen.errors).toEqual([]);
      expect(seen.messages).toEqual([...SAMPLES]);
    }
  });

  test("every frame fed in 1-byte pieces gives exactly the original messages", () => {
    const { reader, seen } = collect();
    for (const message of SAMPLES) {
      const frame = encodeFrame(message);
      for (let i = 0; i < frame.length; i++) {
        reader.push(frame.subarray(i, i + 1));
        expect(seen.messages.length).toBe(i === frame.length - 1 ? 1 : 0);
      }
      expect(seen.messages).toEqual([message]);
      seen.messages.length = 0;
    }
    expect(seen.errors).toEqual([]);
  });

  test("a chunk that ends one frame and starts the next is split correctly (seeded random chunking)", () => {
    const random = seededRandom(0x5eed);
    const messages = Array.from({ length: 200 }, (_, i) => SAMPLES[i % SAMPLES.length]!);
    const stream = concat(...messages.map(encodeFrame));
    const { reader, seen } = collect();
    for (let at = 0; at < stream.length; ) {
      const size = 1 + Math.floor(random() * 40);
      reader.push(stream.subarray(at, at + size));
      at += size;
    }
    expect(seen.errors).toEqual([]);
    expect(seen.messages).toEqual(messages);
  });

  test("a split body is copied out of the chunk: reusing the socket's buffer afterwards does not corrupt it", () => {
    const message: Message = { t: "res", id: 5, body: new Uint8Array([1, 2, 3, 4, 5, 6]) };
    const frame = encodeFrame(message);
    const { reader, seen } = collect();
    const chunk = new Uint8Array(frame.length);
    chunk.set(frame.subarray(0, 10));
    reader.push(chunk.subarray(0, 10));
    chunk.fill(0xff, 0, 10); // The caller reuses its buffer, as a socket layer may.
    reader.push(frame.subarray(10));
    expect(seen.messages).toEqual([message]);
  });
});

describe("FrameReader: absurd lengths", () => {
  for (const [name, declared, maxFrame] of [
    ["0xFFFFFFFF", 0xffff_ffff, undefined],
    ["maxFrame + 1 (default maximum)", 1024 * 1024 + 1, undefined],
    ["maxFrame + 1 (maximum of 100)", 101, 100],
    ["0x80000000 (top bit set: must not read as negative)", 0x8000_0000, undefined],
  ] as const) {
    test(`a declared length of ${name} is fatal frame_too_large on the 4th byte, with nothing allocated`, () => {
      const { reader, seen } = collect(maxFrame);
      const head = lengthPrefix(declared);
      for (let i = 0; i < 3; i++) {
        reader.push(head.subarray(i, i + 1));
        expect(seen.errors).toEqual([]);
        expect(reader.buffered).toBe(i + 1);
      }
      reader.push(head.subarray(3, 4));
      expect(seen.errors).toEqual([
        {
          code: "frame_too_large",
          fatal: true,
          requestId: 0,
          message: `frame of ${declared} bytes exceeds the maximum of ${maxFrame ?? 1024 * 1024}`,
        },
      ]);
      expect(reader.buffered).toBeLessThanOrEqual(HEADER_BYTES);
    });
  }

  test("the length check runs before any buffer of that size is allocated", () => {
    // Count every `new Uint8Array(n)` and `new ArrayBuffer(n)` while the reader runs, by standing
    // Proxies in for the global constructors.
    const Real = globalThis.Uint8Array;
    const RealBuffer = globalThis.ArrayBuffer;
    const allocated: number[] = [];
    const counting = <T extends object>(ctor: T) =>
      new Proxy(ctor, {
        construct(target, args, newTarget) {
          if (typeof args[0] === "number") allocated.push(args[0]);
          return Reflect.construct(target as new (...a: unknown[]) => object, args, newTarget);
        },
      });
    globalThis.Uint8Array = counting(Real);
    globalThis.ArrayBuffer = counting(RealBuffer);
    try {
      // Control: a split frame within the maximum is assembled in a buffer of exactly its size.
      const control = collect(1000);
      control.reader.push(new Real([0, 0, 0, 10, 1]));
      expect(allocated).toContain(10);
      allocated.length = 0;

      const { reader, seen } = collect(1000);
      // Header plus a few body bytes in one chunk, then more: the path that would allocate.
      reader.push(new Real([0x7f, 0xff, 0xff, 0xff, 1, 2, 3]));
      reader.push(new Real([4, 5, 6]));
      expect(seen.errors.map((e) => [e.code, e.fatal])).toEqual([["frame_too_large", true]]);
      expect(allocated.filter((n) => n > HEADER_BYTES)).toEqual([]);
      expect(reader.buffered).toBeLessThanOrEqual(HEADER_BYTES);
    } finally {
      globalThis.Uint8Array = Real;
      globalThis.ArrayBuffer = RealBuffer;
    }
  });

  test("after a fatal error the reader ignores everything, even valid frames", () => {
    const { reader, seen } = collect(100);
    reader.push(concat(lengthPrefix(101), encodeFrame(SAMPLES[0]!)));
    reader.push(encodeFrame(SAMPLES[1]!));
    expect(seen.errors.length).toBe(1);
    expect(seen.messages).toEqual([]);
  });

  test("a valid frame before an oversized one in the same chunk is still delivered", () => {
    const { reader, seen } = collect(100);
    reader.push(concat(encodeFrame({ t: "ping", id: 1 }), lengthPrefix(5000), new Uint8Array(50)));
    expect(seen.messages).toEqual([{ t: "ping", id: 1 }]);
    expect(seen.errors.map((e) => e.code)).toEqual(["frame_too_large"]);
  });
});

describe("FrameReader: bad frames are not fatal", () => {
  test("valid MessagePack that is not a message gives bad_message with the request id, and the next frame still decodes", () => {
    const { reader, seen } = collect();
    const bad = rawFrame(encodeBody({ t: "req", id: 77, op: 5 } as unknown as Message));
    const next: Message = { t: "req", id: 78, op: "sqrt", body: 16 };
    reader.push(concat(bad, encodeFrame(next)));
    expect(seen.errors).toEqual([{ code: "bad_message", fatal: false, requestId: 77, message: "req.op must be a non-empty string of at most 64 characters" }]);
    expect(seen.messages).toEqual([next]);
  });

  test("an empty frame is bad_frame, and the frame after it in the same chunk is neither read into it nor lost", () => {
    const { reader, seen } = collect();
    const next: Message = { t: "req", id: 79, op: "sqrt", body: 16 };
    reader.push(concat(rawFrame([]), encodeFrame(next)));
    expect(seen.errors.map((e) => [e.code, e.fatal])).toEqual([["bad_frame", false]]);
    expect(seen.messages).toEqual([next]);
  });

  test("a body decoded in place stops at its frame's end: a truncated body is bad_frame even when more bytes follow", () => {
    const { reader, seen } = collect();
    const truncated = rawFrame([0x81, 0xa1, 0x74]); // {t: <missing>}
    reader.push(concat(truncated, encodeFrame({ t: "ping", id: 3 })));
    expect(seen.errors.map((e) => e.code)).toEqual(["bad_frame"]);
    expect(seen.messages).toEqual([{ t: "ping", id: 3 }]);
  });

  test("bad_message without a readable id carries request id 0", () => {
    const { reader, seen } = collect();
    reader.push(rawFrame(encodeBody({ t: "launch", id: "x" } as unknown as Message)));
    reader.push(rawFrame([0x93, 1, 2, 3])); // an array, not a map
    expect(seen.errors.map((e) => [e.code, e.fatal, e.requestId])).toEqual([
      ["bad_message", false, 0],
      ["bad_message", false, 0],
    ]);
  });

  test("undecodable bytes give bad_frame, and the next frame still decodes", () => {
    const { reader, seen } = collect();
    const next: Message = { t: "ping", id: 3 };
    // Split the bad frame and the good one across chunks too.
    const stream = concat(rawFrame([0x82, 0xa1]), rawFrame([]), encodeFrame(next));
    reader.push(stream.subarray(0, 5));
    reader.push(stream.subarray(5));
    expect(seen.errors.map((e) => [e.code, e.fatal])).toEqual([
      ["bad_frame", false],
      ["bad_frame", false],
    ]);
    expect(seen.messages).toEqual([next]);
  });
});

describe("FrameReader: stop", () => {
  test("stop() from a callback drops the rest of the chunk, and later pushes are ignored", () => {
    const seen: Message[] = [];
    const reader = new FrameReader({
      onMessage(message) {
        seen.push(message);
        if (seen.length === 2) reader.stop();
      },
      onError(error) {
        throw error;
      },
    });
    const frames = Array.from({ length: 2000 }, (_, i) => encodeFrame({ t: "ping", id: i + 1 }));
    reader.push(concat(...frames));
    expect(seen).toEqual([
      { t: "ping", id: 1 },
      { t: "ping", id: 2 },
    ]);
    expect(reader.isStopped).toBe(true);
    reader.push(encodeFrame({ t: "ping", id: 9999 }));
    expect(seen.length).toBe(2);
  });

  test("stop() from onError after a bad frame drops the frames behind it", () => {
    const errors: string[] = [];
    const seen: Message[] = [];
    const reader = new FrameReader({
      onMessage: (message) => seen.push(message),
      onError(error) {
        errors.push(error.code);
        reader.stop();
      },
    });
    const bad = rawFrame([0x82, 0xa1]); // a map cut short: not MessagePack
    reader.push(concat(bad, bad, bad, encodeFrame({ t: "ping", id: 1 })));
    expect(errors).toEqual(["bad_frame"]);
    expect(seen).toEqual([]);
  });

  test("stop() drops a frame that is only partly received", () => {
    const { reader, seen } = collect();
    const frame = encodeFrame({ t: "req", id: 4, op: "echo", body: "x".repeat(100) });
    reader.push(frame.subarray(0, 50));
    expect(reader.buffered).toBe(50);
    reader.stop();
    expect(reader.buffered).toBe(0);
    reader.push(frame.subarray(50));
    expect(seen.messages).toEqual([]);
    expect(seen.errors).toEqual([]);
  });
});

describe("FrameReader: garbage", () => {
  test("seeded random garbage never throws out of push, and every error is a WireError", () => {
    const random = seededRandom(20240601);
    let errors = 0;
    for (let round = 0; round < 300; round++) {
      // Small maximum so random lengths are sometimes in range and bodies get decoded.
      const reader = new FrameReader({
        maxFrame: 64,
        onMessage: () => {},
        onError: (error, fatal) => {
          expect(error).toBeInstanceOf(WireError);
          expect(typeof fatal).toBe("boolean");
          errors++;
        },
      });
      for (let chunk = 0; chunk < 20; chunk++) {
        const bytes = new Uint8Array(Math.floor(random() * 64));
        for (let i = 0; i < bytes.length; i++) {
          // Bias toward small length prefixes and MessagePack map/str markers so decoding is reached.
          const r = random();
          bytes[i] = r < 0.3 ? 0 : r < 0.4 ? 0x80 | Math.floor(random() * 16) : Math.floor(random() * 256);
        }
        expect(() => reader.push(bytes)).not.toThrow();
        expect(reader.buffered).toBeLessThanOrEqual(HEADER_BYTES + 64);
      }
    }
    expect(errors).toBeGreaterThan(0); // The generator really produced bad input.
  });

  test("seeded random mutations of valid frames never throw out of push", () => {
    const random = seededRandom(7);
    const stream = concat(...SAMPLES.map(encodeFrame));
    let messages = 0;
    let errors = 0;
    for (let round = 0; round < 500; round++) {
      const mutated = stream.slice();
      const flips = 1 + Math.floor(random() * 4);
      for (let i = 0; i < flips; i++) mutated[Math.floor(random() * mutated.length)] = Math.floor(random() * 256);
      const reader = new FrameReader({ maxFrame: 4096, onMessage: () => messages++, onError: () => errors++ });
      for (let at = 0; at < mutated.length; ) {
        const size = 1 + Math.floor(random() * 30);
        expect(() => reader.push(mutated.subarray(at, at + size))).not.toThrow();
        at += size;
      }
    }
    // Mutations both broke frames and left others intact: decoding and recovery were both exercised.
    expect(errors).toBeGreaterThan(0);
    expect(messages).toBeGreaterThan(0);
  });
});
