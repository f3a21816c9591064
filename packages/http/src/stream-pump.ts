import type { ByteWriter } from "./byte-writer.ts";

export interface PumpEvents {
  /** Everything was written. */
  done(): void;
  /** The socket broke: the rest cannot be written. */
  abandoned(): void;
  /** The body itself is at fault: its stream failed ("reset"), or it did not match its length ("protocol"). */
  failed(kind: "protocol" | "reset", why: string, cause?: unknown): void;
}

export interface PumpFraming {
  /** Each chunk is framed with its size, and a last chunk ends the body (RFC 9112 §7.1). */
  chunked: boolean;
  /** The Content-Length the head announced, or -1: the stream must yield exactly this many bytes. */
  declared: number;
}

/**
 * Chunks up to this size are copied into one framed buffer (one write, one turn); larger ones go
 * out as three writes without a copy. Bounds what one connection holds to about 2x this.
 */
const INLINE_CHUNK_BYTES = 128 * 1024;
const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = new Uint8Array([0x30, 13, 10, 13, 10]); // "0\r\n\r\n", no trailers

/**
 * Writes a body stream after a head whose write was already started: each chunk is read only once
 * the socket took the previous one, so no more than one chunk is held per connection whatever the
 * pace of the other side. Returns `stop`, after which no event fires and the stream is cancelled.
 */
export function pumpStream(writer: ByteWriter, stream: ReadableStream<Uint8Array>, framing: PumpFraming, events: PumpEvents): (reason: unknown) => void {
  let stopped = false;
  const source = stream.getReader();
  const stop = (reason: unknown) => {
    if (stopped) return;
    stopped = true;
    source.cancel(reason).catch(() => {});
  };
  const send = async (bytes: Uint8Array): Promise<boolean> => writer.write(bytes) || (await writer.drained());
  const fail = (kind: "protocol" | "reset", why: string, cause?: unknown) => {
    source.cancel().catch(() => {});
    events.failed(kind, why, cause);
  };

  const run = async (): Promise<void> => {
    // The head may still be waiting for the socket, or hit a dead one.
    if (!(await writer.drained())) {
      if (stopped) return;
      source.cancel().catch(() => {});
      return events.abandoned();
    }
    const { chunked, declared } = framing;
    let total = 0;
    for (;;) {
      const next = await source.read();
      if (stopped) return;
      if (next.done) break;
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) return fail("protocol", "body stream yielded something other than a Uint8Array");
      if (chunk.length === 0) continue;
      total += chunk.length;
      if (declared >= 0 && total > declared) return fail("protocol", `body is longer than its Content-Length ${declared}`);
      const ok = !chunked
        ? await send(chunk)
        : chunk.length <= INLINE_CHUNK_BYTES
          ? await send(frameChunk(chunk))
          : (await send(chunkPrefix(chunk.length))) && (await send(chunk)) && (await send(CRLF));
      if (stopped) return;
      if (!ok) {
        source.cancel().catch(() => {});
        return events.abandoned();
      }
    }
    if (declared >= 0 && total !== declared) return events.failed("protocol", `body ended after ${total} of its Content-Length ${declared} bytes`);
    const ok = !chunked || (await send(LAST_CHUNK));
    if (!stopped) (ok ? events.done : events.abandoned)();
  };
  run().catch((error: unknown) => {
    if (!stopped) events.failed("reset", `body failed: ${(error as Error | null)?.message ?? String(error)}`, error);
  });
  return stop;
}

function chunkPrefix(size: number): Uint8Array {
  return Buffer.from(`${size.toString(16)}\r\n`, "latin1");
}

/** "<hex size>\r\n<data>\r\n" in one buffer. */
function frameChunk(data: Uint8Array): Uint8Array {
  const size = data.length.toString(16);
  const out = Buffer.allocUnsafe(size.length + 2 + data.length + 2);
  out.write(size, 0, "latin1");
  out[size.length] = 13;
  out[size.length + 1] = 10;
  out.set(data, size.length + 2);
  out[out.length - 2] = 13;
  out[out.length - 1] = 10;
  return out;
}
