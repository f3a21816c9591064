import { describe, expect, test } from "bun:test";
import { pack } from "msgpackr";
import { encodeFrame } from "./codec.ts";
import { FrameBuffer } from "./frame-buffer.ts";
import { FrameReader } from "./frame-reader.ts";
import type { Message } from "./messages.ts";
import { RawBody } from "./raw-body.ts";
import { SAMPLES } from "./_test-fixtures.ts";

function decodeAll(bytes: Uint8Array): Message[] {
  const out: Message[] = [];
  const reader = new FrameReader({
    onMessage: (m) => out.push(m),
    onError: (e) => {
      throw e;
    },
  });
  reader.push(bytes.slice());
  return out;
}

describe("FrameBuffer", () => {
  test("frames appended back to back are byte for byte what encodeFrame makes, and decode to the messages", () => {
    const frames = new FrameBuffer();
    for (const m of SAMPLES) frames.append(m);
    const expected = SAMPLES.map((m) => encodeFrame(m));
    expect(frames.length).toBe(expected.reduce((n, f) => n + f.length, 0));
    expect(Buffer.from(frames.view()).equals(Buffer.concat(expected))).toBe(true);
    expect(decodeAll(frames.view())).toEqual([...SAMPLES]);
  });

  test("a RawBody travels as the bytes it holds", () => {
    const frames = new FrameBuffer();
    const body = new RawBody(pack({ result: 4 }));
    frames.append({ t: "res", id: 2, body });
    expect(decodeAll(frames.view())).toEqual([{ t: "res", id: 2, body: { result: 4 } }]);
  });

  test("consume drops the part a socket took and keeps the rest in order", () => {
    const frames = new FrameBuffer();
    const sent: Message[] = Array.from({ length: 50 }, (_, i) => ({ t: "req", id: i + 1, op: "sqrt", key: i, body: { client: i, value: i } }));
    for (const m of sent) frames.append(m);
    const all = frames.view().slice();
    frames.consume(37);
    expect(Buffer.from(frames.view()).equals(Buffer.from(all.subarray(37)))).toBe(true);
    frames.consume(frames.length);
    expect(frames.length).toBe(0);
  });

  test("it grows past its first size for a large frame, and a body MessagePack cannot carry appends nothing", () => {
    const frames = new FrameBuffer();
    frames.append({ t: "req", id: 1, op: "sqrt", body: 1 });
    const before = frames.view().slice();
    const big: Message = { t: "res", id: 2, body: "x".repeat(300_000) };
    frames.append(big);
    expect(decodeAll(frames.view())).toEqual([{ t: "req", id: 1, op: "sqrt", body: 1 }, big]);
    frames.clear();
    frames.append({ t: "req", id: 1, op: "sqrt", body: 1 });
    expect(() => frames.append({ t: "res", id: 3, body: 2n ** 70n })).toThrow();
    expect(Buffer.from(frames.view()).equals(Buffer.from(before))).toBe(true);
  });
});
