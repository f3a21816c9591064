import type { ByteWriter } from "./byte-writer.ts";
import type { HttpClientErrorCode } from "./errors.ts";
import type { PreparedRequest } from "./request-head.ts";
import { pumpStream } from "./stream-pump.ts";

export interface UploadEvents {
  /** Everything was written. */
  done(): void;
  /** The socket broke: the rest cannot be written (the upstream may still have answered). */
  abandoned(): void;
  /** The body itself is at fault (its stream failed, or it did not match its Content-Length). */
  failed(code: HttpClientErrorCode, why: string, cause?: unknown): void;
}

/**
 * Writes what follows the request head (whose write was already started): a large body, or a
 * stream pumped chunk by chunk as the socket takes them. Returns `stop`, after which no event
 * fires and the stream is cancelled.
 */
export function uploadBody(writer: ByteWriter, request: PreparedRequest, events: UploadEvents): (reason: unknown) => void {
  const rest = request.rest;
  if (rest instanceof ReadableStream) {
    const framing = { chunked: request.framing.kind === "chunked", declared: request.framing.kind === "length" ? request.framing.length : -1 };
    return pumpStream(writer, rest, framing, {
      done: events.done,
      abandoned: events.abandoned,
      failed: (kind, why, cause) => events.failed(kind, `request ${why}`, cause),
    });
  }
  let stopped = false;
  const send = async (): Promise<boolean> => {
    // The head (and a small body with it) may still be waiting for the socket, or hit a dead one.
    if (!(await writer.drained())) return false;
    return rest === null || writer.write(rest) || (await writer.drained());
  };
  send().then((ok) => {
    if (!stopped) (ok ? events.done : events.abandoned)();
  });
  return () => {
    stopped = true;
  };
}
