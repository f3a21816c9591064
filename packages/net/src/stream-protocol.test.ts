import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { encodeFrame, type Message, STREAM_CHUNK, STREAM_WINDOW } from "@switchyard/wire";
import type { Address } from "./address.ts";
import { Streamed } from "./streamed.ts";
import { countingSource, readAll, readError, useStreamSandbox } from "./_stream-test-helpers.ts";
import { deferred, type RawClient, rawClient, within } from "./_test-helpers.ts";

// Generous: these tests use real sockets and must pass on a loaded 2-core machine.
setDefaultTimeout(60_000);

// The listener as a client that speaks the framing by hand sees it: frames on the wire, in order.
const { startListener, cleanups } = useStreamSandbox();

async function connect(address: Address): Promise<RawClient> {
  if (address.kind !== "unix") throw new Error("raw clients in these tests use unix sockets");
  const client = await rawClient(address.path);
  cleanups.push(() => client.close());
  client.write(encodeFrame({ t: "hello", v: 1, role: "Test", id: 9 }));
  expect(await client.next("hello")).toMatchObject({ t: "hello" });
  return client;
}

const send = (client: RawClient, ...messages: Message[]) => {
  for (const message of messages) client.write(encodeFrame(message));
};

/** A ping's pong: everything the listener sent before it has been read. */
async function framesUntilPong(client: RawClient, id: number): Promise<Message[]> {
  send(client, { t: "ping", id });
  const frames: Message[] = [];
  for (;;) {
    const message = await client.next(`pong ${id}`);
    if (message.t === "pong" && message.id === id) return frames;
    frames.push(message);
  }
}

const chunk = (size: number, fill = 1) => new Uint8Array(size).fill(fill);

describe("stream frames from a client", () => {
  test("frames for a stream the listener does not know are ignored, quietly", async () => {
    const problems: string[] = [];
    const listener = await startListener({ onProblem: (p) => problems.push(p) });
    const client = await connect(listener.address);
    send(
      client,
      { t: "data", id: 77, chunk: chunk(10) },
      { t: "data", id: 77, chunk: chunk(0), end: true },
      { t: "credit", id: 77, bytes: 1000 },
      { t: "cancel", id: 77, code: "cancelled", message: "" },
      { t: "abort", id: 77, code: "aborted", message: "" },
    );
    expect(await framesUntilPong(client, 1)).toEqual([]);
    expect(problems).toEqual([]);
    expect(client.isClosed()).toBe(false);
  });

  test("a malformed stream frame is a bad_message for its id, and the connection stays", async () => {
    const listener = await startListener();
    const client = await connect(listener.address);
    send(client, { t: "data", id: 5, chunk: "text" } as unknown as Message, { t: "credit", id: 6, bytes: -1 });
    const frames = await framesUntilPong(client, 1);
    expect(frames).toMatchObject([
      { t: "err", id: 5, code: "bad_message" },
      { t: "err", id: 6, code: "bad_message" },
    ]);
  });

  test("a streamed request reaches the handler as request.stream; credit is granted as the handler reads", async () => {
    const listener = await startListener({ handle: async (request) => (await readAll(request.stream!)).bytes });
    const client = await connect(listener.address);
    send(client, { t: "req", id: 1, op: "upload", body: null, streamed: true });
    // Exactly the initial window, then only as much as was granted back.
    let sent = 0;
    for (; sent < STREAM_WINDOW; sent += STREAM_CHUNK) send(client, { t: "data", id: 1, chunk: chunk(STREAM_CHUNK) });
    let granted = 0;
    while (granted < STREAM_WINDOW) {
      const message = await client.next("credit");
      expect(message).toMatchObject({ t: "credit", id: 1 });
      granted += (message as { bytes: number }).bytes;
    }
    send(client, { t: "data", id: 1, chunk: chunk(100) }, { t: "data", id: 1, chunk: chunk(0), end: true });
    expect(await client.next("the answer")).toEqual({ t: "res", id: 1, body: STREAM_WINDOW + 100 });
  });

  test("a client that sends more than it was granted has its stream cancelled; the handler sees it fail", async () => {
    const release = deferred();
    const listener = await startListener({
      async handle(request) {
        await release.promise;
        return String((await readError(request.stream!)) as Error);
      },
    });
    const client = await connect(listener.address);
    send(client, { t: "req", id: 3, op: "upload", body: null, streamed: true });
    for (let sent = 0; sent <= STREAM_WINDOW; sent += STREAM_CHUNK) send(client, { t: "data", id: 3, chunk: chunk(STREAM_CHUNK) });
    expect(await client.next("the cancel")).toMatchObject({ t: "cancel", id: 3, code: "aborted" });
    release.resolve();
    expect(await client.next("the answer")).toMatchObject({ t: "res", id: 3, body: expect.stringContaining(`sent ${STREAM_CHUNK} bytes with only 0 granted`) });
    expect(client.isClosed()).toBe(false);
  });
});

describe("a streamed answer on the wire", () => {
  test("is a res head marked streamed, then chunks within the window, then more only for credit, then the end", async () => {
    const source = countingSource(STREAM_WINDOW * 2 + 10);
    const listener = await startListener({ handle: () => new Streamed({ status: 200 }, source.stream) });
    const client = await connect(listener.address);
    send(client, { t: "req", id: 4, op: "download", body: null });
    expect(await client.next("the head")).toEqual({ t: "res", id: 4, streamed: true, body: { status: 200 } });
    const bytesIn = (frames: Message[]) => frames.reduce((n, m) => n + (m.t === "data" ? m.chunk.length : 0), 0);
    let received = 0;
    for (let ping = 1; received < STREAM_WINDOW; ping++) received += bytesIn(await framesUntilPong(client, ping));
    expect(received).toBe(STREAM_WINDOW);
    expect(bytesIn(await framesUntilPong(client, 99))).toBe(0); // nothing more without credit
    send(client, { t: "credit", id: 4, bytes: STREAM_WINDOW * 2 });
    const rest: Message[] = [];
    while (rest.at(-1)?.t !== "data" || !(rest.at(-1) as { end?: boolean }).end) rest.push(await client.next("the rest"));
    expect(bytesIn(rest)).toBe(STREAM_WINDOW + 10);
    expect(rest.every((m) => m.t === "data" && m.id === 4 && m.chunk.length <= STREAM_CHUNK)).toBe(true);
    await within(listener.drained(10_000), "the listener to drain");
  });
});
