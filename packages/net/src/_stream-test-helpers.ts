// Shared by the stream tests only; never exported from index.ts.
import type { Address } from "./address.ts";
import { type Listener, type ListenerOptions, listen } from "./listener.ts";
import { Peer, type PeerOptions } from "./peer.ts";
import { deferred, seededRandom, useSocketSandbox, within } from "./_test-helpers.ts";

/** A test file's listeners and peers on unix sockets in a per-test directory, closed after each test. */
export function useStreamSandbox() {
  const sandbox = useSocketSandbox("srv.sock");
  const { cleanups, unix } = sandbox;
  let sockets = 0;

  async function startListener(options: Partial<ListenerOptions> = {}): Promise<Listener> {
    const listener = await listen({ address: unix(`s${++sockets}.sock`), role: "Server", id: 2, handle: (r) => r.body, ...options });
    cleanups.push(() => listener.close());
    return listener;
  }

  function startPeer(address: Address, options: Partial<PeerOptions> = {}): Peer {
    const peer = new Peer({ address, role: "Load Balancer", id: 0, timeoutMs: 20_000, backoff: { initialMs: 5, maxMs: 50 }, ...options });
    cleanups.push(() => peer.close());
    return peer;
  }

  async function openPeer(address: Address, options: Partial<PeerOptions> = {}): Promise<Peer> {
    const open = deferred();
    const peer = startPeer(address, {
      ...options,
      onStateChange(state) {
        if (state === "open") open.resolve();
      },
    });
    await within(open.promise, "the peer to open");
    return peer;
  }

  return { sandbox, cleanups, unix, startListener, startPeer, openPeer };
}

/** One 64 KiB block of noise; chunks are copies of it stamped with their offset, so reordering changes the hash. */
const NOISE = (() => {
  const random = seededRandom(42);
  return Uint8Array.from({ length: 64 * 1024 }, () => Math.floor(random() * 256));
})();

export interface CountingSource {
  readonly stream: ReadableStream<Uint8Array>;
  /** Bytes handed to whoever reads the stream so far. */
  readonly pulled: number;
  /** SHA-256 of what was handed out, as hex. */
  digest(): string;
  /** Resolves with the reason when the stream is cancelled. */
  readonly cancelled: Promise<unknown>;
}

/**
 * A pull-based source of `total` bytes (Infinity: endless) in chunks of `chunk`; after `failAfter`
 * bytes its next pull throws instead.
 */
export function countingSource(total: number, chunk = 64 * 1024, failAfter = Number.POSITIVE_INFINITY): CountingSource {
  let pulled = 0;
  const hasher = new Bun.CryptoHasher("sha256");
  const cancelled = deferred<unknown>();
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (pulled >= failAfter) throw new Error("the disk went away");
        if (pulled >= total) return controller.close();
        const bytes = new Uint8Array(Math.min(chunk, total - pulled));
        for (let at = 0; at < bytes.length; at += NOISE.length) bytes.set(NOISE.subarray(0, Math.min(NOISE.length, bytes.length - at)), at);
        if (bytes.length >= 8) new DataView(bytes.buffer).setFloat64(0, pulled);
        hasher.update(bytes);
        pulled += bytes.length;
        controller.enqueue(bytes);
      },
      cancel(reason) {
        cancelled.resolve(reason);
      },
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    get pulled() {
      return pulled;
    },
    digest: () => hasher.digest("hex"),
    cancelled: cancelled.promise,
  };
}

/** Reads `stream` to its end: how many bytes and their SHA-256. */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<{ bytes: number; digest: string }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    hasher.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, digest: hasher.digest("hex") };
}

/** The error reading `stream` ends with; fails if it ends cleanly. */
export async function readError(stream: ReadableStream<Uint8Array>): Promise<unknown> {
  try {
    for await (const _ of stream) {
      // Drain until it fails.
    }
  } catch (error) {
    return error;
  }
  throw new Error("expected the stream to fail");
}

export const MiB = 1024 * 1024;
