import type { ByteWriter } from "./byte-writer.ts";
import type { HttpClientErrorCode } from "./errors.ts";
import type { PreparedRequest } from "./request-head.ts";

export interface UploadEvents {
  /** Everything was written. */
  done(): void;
  /** The socket broke: the rest cannot be written (the upstream may still have answered). */
  abandoned(): void;
  /** The body itself is at fault (its stream failed, or it did not match its Content-Length). */
  failed(code: HttpClientErrorCode, why: string, cause?: unknown): void;
}

/**
 * Chunks up to this size are copied into one framed buffer (one write, one turn); larger ones go
 * out as three writes without a copy. Bounds what one connection holds to about 2x this.
 */
const INLINE_CHUNK_BYTES = 128 * 1024;
const CRLF = new Uint8Array([13, 10]);
const LAST_CHUNK = new Uint8Array([0x30, 13, 10, 13, 10]); // "0\r\n\r\n", no trailers

/**
 * Writes what follows the request head (whose write was already started): a large body, or a
 * stream read one chunk at a time and only once the socket took the previous one, so no more than
 * one chunk is held per connection whatever the pace of the upstream. Returns `stop`, after which
 * no event fires and the stream is cancelled.
 */
export function uploadBody(writer: ByteWriter, request: PreparedRequest, events: UploadEvents): (reason: unknown) => void {
  let stopped = false;
  let reader: { cancel(reason?: unknown): Promise<void> } | null = null;
  const stop = (reason: unknown) => {
    if (stopped) return;
    stopped = true;
    reader?.cancel(reason).catch(() => {});
  };
  const send = async (bytes: Uint8Array): Promise<boolean> => writer.write(bytes) || (await writer.drained());

  const run = async (): Promise<void> => {
    // The head (and a small body with it) may still be waiting for the socket, or hit a dead one.
    if (!(await writer.drained())) {
      if (!stopped) events.abandoned();
      return;
    }
    const rest = request.rest;
    if (rest === null || rest instanceof Uint8Array) {
      const ok = rest === null || (await send(rest));
      if (!stopped) (ok ? events.done : events.abandoned)();
      return;
    }
    const chunked = request.framing.kind === "chunked";
    const declared = request.framing.kind === "length" ? request.framing.length : -1;
    let total = 0;
    const source = rest.getReader();
    reader = source;
    for (;;) {
      const next = await source.read();
      if (stopped) return;
      if (next.done) break;
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) {
        source.cancel().catch(() => {});
        return events.failed("protocol", "request body stream yielded something other than a Uint8Array");
      }
      if (chunk.length === 0) continue;
      total += chunk.length;
      if (declared >= 0 && total > declared) {
        source.cancel().catch(() => {});
        return events.failed("protocol", `request body is longer than its Content-Length ${declared}`);
      }
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
    if (declared >= 0 && total !== declared) {
      return events.failed("protocol", `request body ended after ${total} of its Content-Length ${declared} bytes`);
    }
    const ok = !chunked || (await send(LAST_CHUNK));
    if (!stopped) (ok ? events.done : events.abandoned)();
  };
  run().catch((error: unknown) => {
    if (!stopped) events.failed("reset", `request body failed: ${(error as Error | null)?.message ?? String(error)}`, error);
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
