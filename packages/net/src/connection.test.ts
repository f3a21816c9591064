import { describe, expect, test } from "bun:test";
import type { Socket } from "bun";
import { encodeFrame, FrameReader, type Message, type WireError } from "@switchyard/wire";
import { Connection, describeSocketError } from "./connection.ts";

/** The parts of a Bun socket a Connection touches, recording what happens to it. */
function fakeSocket() {
  const written: Uint8Array[] = [];
  const calls: string[] = [];
  const socket = {
    write(data: Uint8Array) {
      written.push(data.slice());
      return data.length;
    },
    end() {
      calls.push("end");
    },
    terminate() {
      calls.push("terminate");
    },
  };
  const sent = (): Message[] => {
    const out: Message[] = [];
    const reader = new FrameReader({ onMessage: (m) => out.push(m), onError: (e) => { throw e; } });
    for (const chunk of written) reader.push(chunk);
    return out;
  };
  // A structural stand-in: Connection only uses write/end/terminate of the real Socket.
  return { socket: socket as unknown as Socket<Connection>, written, calls, sent };
}

function connection() {
  const fake = fakeSocket();
  const messages: Message[] = [];
  const closes: string[] = [];
  const wireErrors: [string, boolean][] = [];
  const conn = new Connection(
    fake.socket,
    {
      onMessage: (_c, m) => messages.push(m),
      onClose: (_c, reason) => closes.push(reason),
      onWireError: (_c, e: WireError, fatal) => wireErrors.push([e.code, fatal]),
    },
    100,
  );
  return { conn, fake, messages, closes, wireErrors };
}

describe("Connection", () => {
  test("frames pushed into its reader become messages", () => {
    const { conn, messages } = connection();
    conn.reader.push(encodeFrame({ t: "ping", id: 1 }));
    expect(messages).toEqual([{ t: "ping", id: 1 }]);
  });

  test("a bad message is answered with an error frame carrying the request id, and the connection stays open", () => {
    const { conn, fake, wireErrors } = connection();
    conn.reader.push(encodeFrame({ t: "req", id: 12, op: "", body: null }));
    conn.writer.flush();
    expect(fake.sent()).toEqual([{ t: "err", id: 12, code: "bad_message", message: "req.op must be a non-empty string of at most 64 characters" }]);
    expect(wireErrors).toEqual([["bad_message", false]]);
    expect(fake.calls).toEqual([]);
  });

  test("an oversized frame is answered with an error frame, flushed before the socket is ended", () => {
    const { conn, fake, wireErrors } = connection();
    conn.reader.push(new Uint8Array([0, 0, 0, 101]));
    expect(fake.sent()).toEqual([{ t: "err", id: 0, code: "frame_too_large", message: "frame of 101 bytes exceeds the maximum of 100" }]);
    expect(fake.calls).toEqual(["end"]);
    expect(wireErrors).toEqual([["frame_too_large", true]]);
  });

  test("handleClose reports once, and end/destroy after it touch nothing", () => {
    const { conn, fake, closes } = connection();
    conn.handleClose("connection reset");
    conn.handleClose("closed by peer");
    conn.end();
    conn.destroy();
    conn.send({ t: "ping", id: 1 });
    conn.writer.flush();
    expect(closes).toEqual(["connection reset"]);
    expect(conn.closed).toBe(true);
    expect(fake.calls).toEqual([]);
    expect(fake.written).toEqual([]);
  });

  test("destroy drops what is queued and terminates the socket", () => {
    const { conn, fake } = connection();
    conn.send({ t: "ping", id: 1 });
    conn.destroy();
    conn.writer.flush();
    expect(fake.written).toEqual([]);
    expect(fake.calls).toEqual(["terminate"]);
  });

  test("end flushes what is queued first", () => {
    const { conn, fake } = connection();
    conn.send({ t: "ping", id: 1 });
    conn.end();
    expect(fake.sent()).toEqual([{ t: "ping", id: 1 }]);
    expect(fake.calls).toEqual(["end"]);
  });
});

describe("describeSocketError", () => {
  const table: [unknown, string][] = [
    [{ code: "ECONNREFUSED", message: "x" }, "connection refused"],
    [{ code: "ENOENT" }, "no such socket"],
    [{ code: "ECONNRESET" }, "connection reset"],
    [{ code: "EPIPE" }, "broken pipe"],
    [{ code: "ETIMEDOUT" }, "timed out"],
    [new Error("something odd"), "something odd"],
    ["plain text", "plain text"],
    [null, "null"],
  ];
  for (const [error, text] of table) {
    test(`${(error as { code?: string } | null)?.code ?? String(error)} → ${text}`, () => {
      expect(describeSocketError(error)).toBe(text);
    });
  }
});
