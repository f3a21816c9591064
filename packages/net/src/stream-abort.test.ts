import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { NetError } from "./errors.ts";
import type { PeerState } from "./peer.ts";
import { RequestError } from "./errors.ts";
import { Streamed } from "./streamed.ts";
import { countingSource, MiB, readAll, readError, useStreamSandbox } from "./_stream-test-helpers.ts";
import { deferred, rejectionOf, waitFor, within } from "./_test-helpers.ts";

// Generous: these tests use real sockets and must pass on a loaded 2-core machine.
setDefaultTimeout(60_000);

const { startListener, startPeer, openPeer, unix } = useStreamSandbox();

/** The code an error from a stream carries, whether it was found here or sent by the other side. */
function codeOf(error: unknown): string | undefined {
  if (!(error instanceof NetError)) return undefined;
  return error.code === "remote" ? error.remoteCode : error.code;
}

describe("cancelling", () => {
  test("a client that cancels a streamed answer cancels the server's source and ends the request there", async () => {
    const source = countingSource(Number.POSITIVE_INFINITY);
    const listener = await startListener({ handle: () => new Streamed(null, source.stream) });
    const peer = await openPeer(listener.address);
    const answer = (await peer.request("download", null)) as Streamed;
    const reader = answer.body.getReader();
    expect((await reader.read()).value?.length).toBeGreaterThan(0);
    await reader.cancel("the browser went away");
    expect(await within(source.cancelled, "the server's source to be cancelled")).toBeInstanceOf(NetError);
    await waitFor(() => listener.stats().inflight === 0, "the request to leave the in-flight count");
  });

  test("a handler that cancels request.stream stops the client's source; its answer still arrives", async () => {
    const listener = await startListener({
      async handle(request) {
        const reader = request.stream!.getReader();
        const first = await reader.read();
        await reader.cancel("enough");
        return { first: first.value?.length };
      },
    });
    const peer = await openPeer(listener.address);
    const source = countingSource(Number.POSITIVE_INFINITY);
    expect(await peer.request("upload", null, 10_000, undefined, source.stream)).toEqual({ first: 64 * 1024 });
    expect(await within(source.cancelled, "the client's source to be cancelled")).toMatchObject({ code: "remote", remoteCode: "cancelled", message: "enough" });
  });

  test("a handler that answers without reading request.stream has it discarded: the client stops sending", async () => {
    const listener = await startListener({ handle: () => ({ status: 413 }) });
    const peer = await openPeer(listener.address);
    const source = countingSource(Number.POSITIVE_INFINITY);
    expect(await peer.request("upload", null, 10_000, undefined, source.stream)).toEqual({ status: 413 });
    await within(source.cancelled, "the client's source to be cancelled");
  });

  test("an error answer to a streamed request stops the upload", async () => {
    const listener = await startListener({
      async handle(request) {
        await request.stream!.getReader().read();
        throw new RequestError("too_large", "no more");
      },
    });
    const peer = await openPeer(listener.address);
    const source = countingSource(Number.POSITIVE_INFINITY);
    expect(await rejectionOf(peer.request("upload", null, 10_000, undefined, source.stream))).toMatchObject({ code: "remote", remoteCode: "too_large" });
    await within(source.cancelled, "the client's source to be cancelled");
  });

  test("a cancel at the end of a chain reaches the server's source through the hop", async () => {
    const source = countingSource(Number.POSITIVE_INFINITY);
    const server = await startListener({ handle: () => new Streamed(null, source.stream) });
    const upstream = await openPeer(server.address, { rawResponses: true });
    const hop = await startListener({ handle: (r) => upstream.request(r.op, r.body, r.ttl, r.key, r.stream) });
    const client = await openPeer(hop.address);
    const answer = (await client.request("download", null)) as Streamed;
    await answer.body.cancel("bye");
    await within(source.cancelled, "the server's source to be cancelled");
    await waitFor(() => hop.stats().inflight === 0 && server.stats().inflight === 0, "both listeners to finish");
  });
});

describe("sources that fail", () => {
  test("an upload whose source fails errors request.stream on the server and rejects the request", async () => {
    const seen = deferred<unknown>();
    const listener = await startListener({
      async handle(request) {
        seen.resolve(await readError(request.stream!));
        throw new RequestError("bad_request", "incomplete upload");
      },
    });
    const peer = await openPeer(listener.address);
    const source = countingSource(Number.POSITIVE_INFINITY, 64 * 1024, 1 * MiB);
    const error = await rejectionOf(peer.request("upload", null, 10_000, undefined, source.stream));
    expect(error).toMatchObject({ code: "aborted" });
    expect((error as Error).message).toContain("the disk went away");
    const serverSide = await within(seen.promise, "the handler to see the stream fail");
    expect(serverSide).toMatchObject({ code: "remote", remoteCode: "aborted" });
    expect((serverSide as Error).message).toContain("the disk went away");
  });

  test("a download whose source fails errors the client's stream with a NetError", async () => {
    const listener = await startListener({ handle: () => new Streamed(null, countingSource(Number.POSITIVE_INFINITY, 64 * 1024, 2 * MiB).stream) });
    const peer = await openPeer(listener.address);
    const answer = (await peer.request("download", null)) as Streamed;
    const error = await readError(answer.body);
    expect(error).toMatchObject({ code: "remote", remoteCode: "aborted" });
    await waitFor(() => listener.stats().inflight === 0, "the request to leave the in-flight count");
  });

  test("a relayed upload whose source fails errors request.stream at the server behind the hop", async () => {
    const seen = deferred<unknown>();
    const server = await startListener({
      async handle(request) {
        seen.resolve(await readError(request.stream!));
        return null;
      },
    });
    const upstream = await openPeer(server.address);
    const hop = await startListener({ handle: (r) => upstream.request(r.op, r.body, r.ttl, r.key, r.stream) });
    const client = await openPeer(hop.address);
    const source = countingSource(Number.POSITIVE_INFINITY, 64 * 1024, 1 * MiB);
    await rejectionOf(client.request("upload", null, 10_000, undefined, source.stream));
    expect(codeOf(await within(seen.promise, "the server to see the stream fail"))).toBe("aborted");
  });
});

describe("connections that drop", () => {
  test("mid-download: the client's stream errors with connection_lost and the server's source is cancelled", async () => {
    const source = countingSource(Number.POSITIVE_INFINITY);
    const listener = await startListener({ handle: () => new Streamed(null, source.stream) });
    const peer = await openPeer(listener.address);
    const answer = (await peer.request("download", null)) as Streamed;
    const reader = answer.body.getReader();
    await reader.read();
    for (const conn of listener.connections) conn.destroy();
    // What had already arrived may still be read; then the stream fails.
    const error = await rejectionOf((async () => {
      while (!(await reader.read()).done);
    })());
    expect(error).toMatchObject({ code: "connection_lost" });
    await within(source.cancelled, "the server's source to be cancelled");
    await waitFor(() => listener.stats().inflight === 0, "the request to leave the in-flight count");
  });

  test("mid-upload: request.stream errors on the server, the client's source is cancelled and the request fails as aborted", async () => {
    const seen = deferred<unknown>();
    const reading = deferred();
    const listener = await startListener({
      async handle(request) {
        const reader = request.stream!.getReader();
        await reader.read();
        reading.resolve();
        try {
          for (;;) if ((await reader.read()).done) return null;
        } catch (error) {
          seen.resolve(error);
          throw error;
        }
      },
    });
    const peer = await openPeer(listener.address);
    const source = countingSource(Number.POSITIVE_INFINITY);
    const answer = peer.request("upload", null, 10_000, undefined, source.stream);
    await within(reading.promise, "the upload to start");
    for (const conn of listener.connections) conn.destroy();
    // Not "connection_lost", which says "retry elsewhere": the body is partly gone, so it cannot be.
    expect(await rejectionOf(answer)).toMatchObject({ code: "aborted", message: expect.stringContaining("connection closed") });
    expect(await within(seen.promise, "the handler to see the stream fail")).toMatchObject({ code: "connection_lost" });
    await within(source.cancelled, "the client's source to be cancelled");
  });
});

describe("a peer that is not connected", () => {
  test("rejects with unavailable without reading the source, when down", async () => {
    const down = deferred();
    const peer = startPeer(unix("nobody.sock"), { onStateChange: (state: PeerState) => state === "down" && down.resolve() });
    await within(down.promise, "the peer to be down");
    const source = countingSource(MiB);
    expect(await rejectionOf(peer.request("upload", null, 1000, undefined, source.stream))).toMatchObject({ code: "unavailable" });
    expect(source.pulled).toBe(0);
    expect(source.stream.locked).toBe(false);
  });

  test("rejects with unavailable without reading the source, when the connection it waited for fails", async () => {
    const peer = startPeer(unix("nobody.sock"));
    expect(peer.state).toBe("connecting");
    const source = countingSource(MiB);
    expect(await rejectionOf(peer.request("upload", null, 5000, undefined, source.stream))).toMatchObject({ code: "unavailable" });
    expect(source.pulled).toBe(0);
    expect(source.stream.locked).toBe(false);
    // The same stream can then go to another upstream, intact.
    const listener = await startListener({ handle: (r) => readAll(r.stream!) });
    const other = await openPeer(listener.address);
    expect(await other.request("upload", null, 5000, undefined, source.stream)).toEqual({ bytes: MiB, digest: source.digest() });
  });

  test("a stream that is already being read is refused before anything is sent", async () => {
    const listener = await startListener();
    const peer = await openPeer(listener.address);
    const source = countingSource(MiB);
    source.stream.getReader();
    expect(await rejectionOf(peer.request("upload", null, 1000, undefined, source.stream))).toMatchObject({ code: "aborted" });
    expect(listener.stats().total).toBe(0);
  });
});

describe("answers nobody waits for", () => {
  test("a streamed answer that arrives after its request timed out is cancelled", async () => {
    const release = deferred();
    const source = countingSource(Number.POSITIVE_INFINITY);
    const listener = await startListener({
      async handle() {
        await release.promise;
        return new Streamed(null, source.stream);
      },
    });
    const peer = await openPeer(listener.address);
    expect(await rejectionOf(peer.request("download", null, 50))).toMatchObject({ code: "timeout" });
    release.resolve();
    await within(source.cancelled, "the late answer's source to be cancelled");
    await waitFor(() => listener.stats().inflight === 0, "the request to leave the in-flight count");
  });
});

describe("streams that make no progress", () => {
  test("an answer nobody reads is aborted on both sides after streamIdleMs", async () => {
    const source = countingSource(Number.POSITIVE_INFINITY);
    const listener = await startListener({ streamIdleMs: 100, handle: () => new Streamed(null, source.stream) });
    const peer = await openPeer(listener.address, { streamIdleMs: 100 });
    const answer = (await peer.request("download", null)) as Streamed;
    expect(codeOf(await within(source.cancelled, "the server's source to be cancelled"))).toBe("timeout");
    await waitFor(() => listener.stats().inflight === 0, "the request to leave the in-flight count");
    expect(codeOf(await readError(answer.body))).toBe("timeout");
  });

  test("an upload whose source stalls errors request.stream on the server and rejects the request", async () => {
    const seen = deferred<unknown>();
    const listener = await startListener({
      streamIdleMs: 100,
      async handle(request) {
        seen.resolve(await readError(request.stream!));
        return null;
      },
    });
    const peer = await openPeer(listener.address, { streamIdleMs: 100 });
    const stalled = new ReadableStream<Uint8Array>({ pull: () => new Promise(() => {}) }, { highWaterMark: 0 });
    const error = await rejectionOf(peer.request("upload", null, 10_000, undefined, stalled));
    expect(error).toMatchObject({ code: "aborted", message: expect.stringContaining("made no progress for 100 ms") });
    expect(codeOf(await within(seen.promise, "the handler to see the stream fail"))).toBe("timeout");
  });

  test("the deadline runs from the end of the upload: a long upload is answered, a missing answer after it times out", async () => {
    let answer = true;
    const listener = await startListener({
      async handle(request) {
        const { bytes } = await readAll(request.stream!);
        return answer ? { bytes } : new Promise(() => {});
      },
    });
    const peer = await openPeer(listener.address);
    // Each chunk waits 60 ms: the whole upload takes far longer than the 100 ms budget.
    const slow = (chunks: number) => {
      let sent = 0;
      return new ReadableStream<Uint8Array>({
        async pull(controller) {
          if (sent === chunks) return controller.close();
          await Bun.sleep(60);
          sent++;
          controller.enqueue(new Uint8Array(1024));
        },
      }, { highWaterMark: 0 });
    };
    expect(await peer.request("upload", null, 100, undefined, slow(5))).toEqual({ bytes: 5 * 1024 });
    answer = false;
    expect(await rejectionOf(peer.request("upload", null, 100, undefined, slow(2)))).toMatchObject({ code: "timeout" });
  });
});
