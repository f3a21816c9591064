import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { RawBody, STREAM_CHUNK, STREAM_WINDOW } from "@switchyard/wire";
import type { RequestHandler } from "./listener.ts";
import type { Peer } from "./peer.ts";
import { Streamed } from "./streamed.ts";
import { countingSource, MiB, readAll, useStreamSandbox } from "./_stream-test-helpers.ts";
import { deferred, waitFor, within } from "./_test-helpers.ts";

// Generous: these tests use real sockets and must pass on a loaded 2-core machine.
setDefaultTimeout(60_000);

const { startListener, openPeer } = useStreamSandbox();

/** A few round trips on the connection: whatever the other side was going to send by now has arrived. */
async function settle(peer: Peer): Promise<void> {
  for (let i = 0; i < 5; i++) await peer.ping(5000);
}

describe("streamed bodies through one listener", () => {
  test("a 64 MiB upload arrives intact, in order, as request.stream", async () => {
    const listener = await startListener({
      async handle(request) {
        expect(request.body).toEqual({ name: "big.bin" });
        return readAll(request.stream!);
      },
    });
    const peer = await openPeer(listener.address);
    // 100 000-byte source chunks: each is split to fit STREAM_CHUNK, and the total is no multiple of either.
    const source = countingSource(64 * MiB + 12_345, 100_000);
    const answer = await peer.request("upload", { name: "big.bin" }, 60_000, undefined, source.stream);
    expect(answer).toEqual({ bytes: 64 * MiB + 12_345, digest: source.digest() });
    expect(listener.stats()).toEqual({ inflight: 0, total: 1, errors: 0 });
  });

  test("a 64 MiB download arrives intact as a Streamed answer", async () => {
    const source = countingSource(64 * MiB);
    const listener = await startListener({ handle: () => new Streamed({ status: 200 }, source.stream) });
    const peer = await openPeer(listener.address);
    const answer = await peer.request("download", null);
    expect(answer).toBeInstanceOf(Streamed);
    expect((answer as Streamed).head).toEqual({ status: 200 });
    expect(await readAll((answer as Streamed).body)).toEqual({ bytes: 64 * MiB, digest: source.digest() });
    await waitFor(() => listener.stats().inflight === 0, "the download to count as finished");
  });

  test("an empty streamed body ends at once, both ways", async () => {
    const listener = await startListener({ handle: async (request) => new Streamed(await readAll(request.stream!), countingSource(0).stream) });
    const peer = await openPeer(listener.address);
    const answer = (await peer.request("echo", null, 5000, undefined, countingSource(0).stream)) as Streamed;
    expect(answer.head).toEqual({ bytes: 0, digest: new Bun.CryptoHasher("sha256").digest("hex") });
    expect((await readAll(answer.body)).bytes).toBe(0);
  });

  test("a handler can stream the request body straight back (echo), and ordinary requests share the connection", async () => {
    const listener = await startListener({
      handle: (request) => (request.stream ? new Streamed({ echo: true }, request.stream) : (request.body as number) * 2),
    });
    const peer = await openPeer(listener.address);
    const source = countingSource(8 * MiB);
    const answer = (await peer.request("echo", null, 5000, undefined, source.stream)) as Streamed;
    const [echoed, small] = await Promise.all([readAll(answer.body), Promise.all([1, 2, 3].map((n) => peer.request("double", n)))]);
    expect(echoed).toEqual({ bytes: 8 * MiB, digest: source.digest() });
    expect(small).toEqual([2, 4, 6]);
  });

  test("twenty uploads and downloads at once share one connection, each intact", async () => {
    const listener = await startListener({
      handle: async (request) => new Streamed(await readAll(request.stream!), countingSource((request.body as number) * 100_000).stream),
    });
    const peer = await openPeer(listener.address);
    const expected = await Promise.all(Array.from({ length: 20 }, (_, n) => readAll(countingSource((n + 1) * 100_000).stream)));
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, n) => {
        const source = countingSource((20 - n) * 50_000, 30_000);
        const answer = (await peer.request("swap", n + 1, 30_000, undefined, source.stream)) as Streamed;
        const download = await readAll(answer.body);
        return { upload: answer.head, uploaded: { bytes: source.pulled, digest: source.digest() }, download };
      }),
    );
    for (const [n, result] of results.entries()) {
      expect(result.upload).toEqual(result.uploaded);
      expect(result.download).toEqual(expected[n]!);
    }
  });

  test("with rawResponses, the head of a streamed answer is its bytes, like any other answer", async () => {
    const listener = await startListener({ handle: () => new Streamed({ status: 201 }, countingSource(1000).stream) });
    const peer = await openPeer(listener.address, { rawResponses: true });
    const answer = (await peer.request("download", null)) as Streamed;
    expect(answer.head).toBeInstanceOf(RawBody);
    expect((await readAll(answer.body)).bytes).toBe(1000);
  });

  test("the listener is not drained while a streamed answer is still being sent", async () => {
    const source = countingSource(4 * MiB);
    const listener = await startListener({ handle: () => new Streamed(null, source.stream) });
    const peer = await openPeer(listener.address);
    const answer = (await peer.request("download", null)) as Streamed;
    await settle(peer);
    expect(listener.stats().inflight).toBe(1);
    expect(await listener.drained(20)).toBe(false);
    const drained = listener.drained(20_000);
    expect((await readAll(answer.body)).bytes).toBe(4 * MiB);
    expect(await drained).toBe(true);
    expect(listener.stats()).toEqual({ inflight: 0, total: 1, errors: 0 });
  });
});

describe("backpressure", () => {
  test("a reader that does not read stops the sender after one window; reading resumes it", async () => {
    const source = countingSource(16 * MiB);
    const listener = await startListener({ handle: () => new Streamed(null, source.stream) });
    const peer = await openPeer(listener.address);
    const answer = (await peer.request("download", null)) as Streamed;
    await waitFor(() => source.pulled >= STREAM_WINDOW, "the sender to fill the window");
    await settle(peer);
    expect(source.pulled).toBeLessThanOrEqual(STREAM_WINDOW + STREAM_CHUNK);
    expect(await readAll(answer.body)).toEqual({ bytes: 16 * MiB, digest: source.digest() });
  });

  test("a handler that does not read the upload stops the client after one window", async () => {
    const release = deferred();
    const listener = await startListener({
      async handle(request) {
        await release.promise;
        return readAll(request.stream!);
      },
    });
    const peer = await openPeer(listener.address);
    const source = countingSource(16 * MiB);
    const answer = peer.request("upload", null, 60_000, undefined, source.stream);
    await waitFor(() => source.pulled >= STREAM_WINDOW, "the client to fill the window");
    await settle(peer);
    expect(source.pulled).toBeLessThanOrEqual(STREAM_WINDOW + STREAM_CHUNK);
    release.resolve();
    expect(await answer).toEqual({ bytes: 16 * MiB, digest: source.digest() });
  });
});

describe("relaying through a hop", () => {
  /** client → hop (a listener that forwards with a Peer, as the load balancer and proxies do) → server. */
  async function chain(handle: RequestHandler) {
    const server = await startListener({ handle });
    const upstream = await openPeer(server.address, { rawResponses: true });
    const hop = await startListener({
      decode: { lazyRequests: true },
      handle: (request) => upstream.request(request.op, request.rawBody ?? request.body, request.ttl, request.key, request.stream),
    });
    const client = await openPeer(hop.address);
    return { server, upstream, hop, client };
  }

  test("request and response streams pass a hop both ways, intact", async () => {
    const { client, hop, server } = await chain(async (request) => {
      const received = await readAll(request.stream!);
      return new Streamed({ received }, countingSource(24 * MiB + 7).stream);
    });
    const source = countingSource(24 * MiB);
    const answer = (await client.request("transfer", { name: "x" }, 60_000, 7, source.stream)) as Streamed;
    expect(answer.head).toEqual({ received: { bytes: 24 * MiB, digest: source.digest() } });
    expect(await readAll(answer.body)).toEqual(await readAll(countingSource(24 * MiB + 7).stream));
    await waitFor(() => hop.stats().inflight === 0 && server.stats().inflight === 0, "both listeners to finish");
  });

  test("an echo through the hop streams both ways at once", async () => {
    const { client } = await chain((request) => new Streamed("echo", request.stream!));
    const source = countingSource(16 * MiB, 50_000);
    const answer = (await client.request("echo", null, 60_000, undefined, source.stream)) as Streamed;
    expect(await readAll(answer.body)).toEqual({ bytes: 16 * MiB, digest: source.digest() });
  });

  test("a final reader that does not read holds the server back to about two windows (one per hop)", async () => {
    const source = countingSource(64 * MiB);
    const { client } = await chain(() => new Streamed(null, source.stream));
    const answer = (await client.request("download", null)) as Streamed;
    await waitFor(() => source.pulled >= 2 * STREAM_WINDOW, "the server to fill both windows");
    await settle(client);
    expect(source.pulled).toBeLessThanOrEqual(2 * STREAM_WINDOW + 2 * STREAM_CHUNK);
    const reader = answer.body.getReader();
    await reader.cancel();
    expect(await within(source.cancelled, "the server's source to be cancelled")).toBeDefined();
  });
});
