import { describe, expect, jest, test } from "bun:test";
import type { Socket } from "bun";
import { encodeFrame, FrameReader, type Message, type WireError } from "@switchyard/wire";
import { Connection, describeSocketError } from "./connection.ts";

/** The parts of a Bun socket a Connection touches, recording what happens to it. */
function fakeSocket() {
  const written: Uint8Array[] = [];
  const calls: string[] = [];
  /** How many bytes the "kernel" takes per write; 0 models a peer that stopped reading. */
  let accept = Infinity;
  const socket = {
    write(data: Uint8Array) {
      const n = Math.min(accept, data.length);
      written.push(data.slice(0, n));
      return n;
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
  return {
    socket: socket as unknown as Socket<Connection>,
    written,
    calls,
    sent,
    block() {
      accept = 0;
    },
  };
}

function connection(onMessage?: (conn: Connection, message: Message) => void) {
  const fake = fakeSocket();
  const messages: Message[] = [];
  const closes: string[] = [];
  const wireErrors: [string, boolean][] = [];
  const conn = new Connection(
    fake.socket,
    {
      onMessage: (c, m) => {
        messages.push(m);
        onMessage?.(c, m);
      },
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

describe("Connection: end", () => {
  test("frames that arrive after end() are not delivered, so no request starts on an ending connection", () => {
    const { conn, messages } = connection();
    conn.end();
    conn.reader.push(encodeFrame({ t: "req", id: 1, op: "sqrt", body: 4 }));
    expect(messages).toEqual([]);
  });

  test("end() from a message callback drops the frames behind it in the same chunk", () => {
    const { conn, messages } = connection((c) => c.end());
    const chunk = new Uint8Array([...encodeFrame({ t: "ping", id: 1 }), ...encodeFrame({ t: "ping", id: 2 }), ...encodeFrame({ t: "ping", id: 3 })]);
    conn.reader.push(chunk);
    expect(messages).toEqual([{ t: "ping", id: 1 }]);
  });

  test("end() while writes are blocked, then the socket closes: the give-up timer goes with it", () => {
    const { conn, fake, closes } = connection();
    fake.block();
    conn.send({ t: "ping", id: 1 });
    jest.useFakeTimers();
    try {
      conn.end();
      expect(jest.getTimerCount()).toBe(1); // waiting for drain, with a deadline
      conn.handleClose("connection reset");
      expect(jest.getTimerCount()).toBe(0);
      jest.advanceTimersByTime(10_000);
    } finally {
      jest.useRealTimers();
    }
    expect(closes).toEqual(["connection reset"]);
    expect(fake.calls).toEqual([]);
  });

  test("destroy() after a blocked end() clears the give-up timer too", () => {
    const { conn, fake } = connection();
    fake.block();
    conn.send({ t: "ping", id: 1 });
    jest.useFakeTimers();
    try {
      conn.end();
      conn.destroy();
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
    expect(fake.calls).toEqual(["terminate"]);
  });

  test("a blocked end() gives up after its deadline and terminates the socket", () => {
    const { conn, fake } = connection();
    fake.block();
    conn.send({ t: "ping", id: 1 });
    jest.useFakeTimers();
    try {
      conn.end();
      jest.advanceTimersByTime(5000);
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
    expect(fake.calls).toEqual(["terminate"]);
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
