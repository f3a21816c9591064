import { describe, expect, test } from "bun:test";
import { encodeFrame, FrameReader, type Message } from "@switchyard/wire";
import { type ByteSink, FrameWriter } from "./frame-writer.ts";

/** A socket stand-in: records a copy of every write and takes as many bytes as `accept` says. */
class FakeSink implements ByteSink {
  readonly writes: Uint8Array[] = [];
  /** Bytes taken per call: a number, or -1 for a closed socket. Defaults to everything. */
  accept: (offered: number) => number = (offered) => offered;

  write(data: Uint8Array): number {
    const taken = this.accept(data.length);
    // Copy: the writer reuses its buffer, as a kernel would have copied the bytes it took.
    this.writes.push(data.slice(0, Math.max(0, taken)));
    return taken;
  }

  /** Every byte the "kernel" took, in order. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.writes.reduce((n, w) => n + w.length, 0));
    let at = 0;
    for (const w of this.writes) {
      out.set(w, at);
      at += w.length;
    }
    return out;
  }

  /** The messages a reader on the other end would see. */
  decoded(): Message[] {
    const messages: Message[] = [];
    const reader = new FrameReader({
      maxFrame: 16 * 1024 * 1024,
      onMessage: (m) => messages.push(m),
      onError: (e) => {
        throw e;
      },
    });
    reader.push(this.bytes());
    return messages;
  }
}

/** Lets the writer's end-of-turn flush (a setImmediate queued before ours) run. */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const req = (id: number, body: unknown = id): Message => ({ t: "req", id, op: "sqrt", body });

describe("FrameWriter", () => {
  test("several sends in one turn leave in ONE write, in order, at the end of the turn", async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    const sent = [req(1), req(2), { t: "ping", id: 3 } as Message, req(4)];
    for (const m of sent) writer.send(m);
    expect(sink.writes.length).toBe(0); // nothing leaves before the turn ends
    expect(writer.backlog).toBe(sent.reduce((n, m) => n + encodeFrame(m).length, 0));
    await endOfTurn();
    expect(sink.writes.length).toBe(1);
    expect(sink.decoded()).toEqual(sent);
    expect(writer.backlog).toBe(0);
  });

  test("sends in later turns leave in later writes", async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    writer.send(req(1));
    await endOfTurn();
    writer.send(req(2));
    writer.send(req(3));
    await endOfTurn();
    expect(sink.writes.length).toBe(2);
    expect(sink.decoded()).toEqual([req(1), req(2), req(3)]);
  });

  test("two writers with frames queued in the same turn each make one write", async () => {
    const a = new FakeSink();
    const b = new FakeSink();
    const wa = new FrameWriter(a);
    const wb = new FrameWriter(b);
    wa.send(req(1));
    wb.send(req(2));
    wa.send(req(3));
    await endOfTurn();
    expect([a.writes.length, b.writes.length]).toEqual([1, 1]);
    expect(a.decoded()).toEqual([req(1), req(3)]);
    expect(b.decoded()).toEqual([req(2)]);
  });

  test("flush() writes at once what is queued", () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    writer.send(req(1));
    writer.flush();
    expect(sink.decoded()).toEqual([req(1)]);
    expect(writer.backlog).toBe(0);
  });

  test("a partial write keeps the remainder, in order, behind later sends, and resumes on drain", async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    sink.accept = () => 7; // the kernel takes 7 bytes, then its buffer is full
    writer.send(req(1, "a".repeat(50)));
    writer.send(req(2));
    await endOfTurn();
    expect(sink.writes.length).toBe(1);
    const total = encodeFrame(req(1, "a".repeat(50))).length + encodeFrame(req(2)).length;
    expect(writer.backlog).toBe(total - 7);

    // While blocked, new frames queue behind the remainder and nothing is written.
    writer.send(req(3));
    await endOfTurn();
    expect(sink.writes.length).toBe(1);

    // Drain: the kernel takes some more, then everything.
    sink.accept = () => 11;
    writer.onDrain();
    expect(sink.writes.length).toBe(2);
    sink.accept = (offered) => offered;
    writer.onDrain();
    expect(writer.backlog).toBe(0);
    expect(sink.decoded()).toEqual([req(1, "a".repeat(50)), req(2), req(3)]);
  });

  test("a write that takes nothing waits for drain instead of spinning", async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    sink.accept = () => 0;
    writer.send(req(1));
    await endOfTurn();
    writer.send(req(2));
    await endOfTurn();
    expect(sink.writes.length).toBe(1);
    sink.accept = (offered) => offered;
    writer.onDrain();
    expect(sink.decoded()).toEqual([req(1), req(2)]);
  });

  test("a drain with nothing queued writes nothing", () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    writer.onDrain();
    expect(sink.writes.length).toBe(0);
  });

  test("a negative write (socket closed) closes the writer: the backlog is dropped and later sends are ignored", async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    sink.accept = () => -1;
    writer.send(req(1));
    await endOfTurn();
    expect(sink.writes.length).toBe(1);
    expect(writer.backlog).toBe(0);
    sink.accept = (offered) => offered;
    writer.send(req(2));
    await endOfTurn();
    writer.onDrain();
    writer.flush();
    expect(sink.writes.length).toBe(1);
    expect(writer.backlog).toBe(0);
  });

  test("close() drops the queue and ignores later sends", async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    writer.send(req(1));
    writer.close();
    writer.send(req(2));
    await endOfTurn();
    expect(sink.writes.length).toBe(0);
    expect(writer.backlog).toBe(0);
  });

  test("frames larger than the initial buffer grow it without corrupting what is already queued", async () => {
    const sink = new FakeSink();
    const writer = new FrameWriter(sink);
    const big = req(2, new Uint8Array(300_000).fill(7));
    writer.send(req(1));
    writer.send(big);
    writer.send(req(3));
    await endOfTurn();
    expect(sink.writes.length).toBe(1);
    const got = sink.decoded();
    expect(got.length).toBe(3);
    expect(got[0]).toEqual(req(1));
    expect(got[2]).toEqual(req(3));
    const body = (got[1] as { body: Uint8Array }).body;
    expect(body.length).toBe(300_000);
    expect(body.every((b) => b === 7)).toBe(true);

    // After a very large frame the writer still works (its buffer may have been shrunk back).
    writer.send(req(4, new Uint8Array(2_000_000)));
    await endOfTurn();
    writer.send(req(5));
    await endOfTurn();
    const after = sink.decoded();
    expect(after.at(-1)).toEqual(req(5));
    expect(after.length).toBe(5);
  });
});

describe("whenFlushed", () => {
  test("runs at once when nothing is queued, and only after a blocked remainder drained otherwise", () => {
    const writes: number[] = [];
    let accept = 3;
    const writer = new FrameWriter({
      write(data) {
        const n = Math.min(accept, data.length);
        writes.push(n);
        return n;
      },
    });
    let ran = 0;
    writer.whenFlushed(() => ran++);
    expect(ran).toBe(1);
    writer.send({ t: "ping", id: 1 });
    writer.flush();
    writer.whenFlushed(() => ran++);
    expect(ran).toBe(1); // 3 bytes taken, the rest waits for drain
    accept = 1000;
    writer.onDrain();
    expect(ran).toBe(2);
    expect(writer.backlog).toBe(0);
  });
});
