/** A stream that makes no progress (no chunk sent or read, no credit) for this long is aborted on both sides. */
export const STREAM_IDLE_MS = 30_000;

/** An answer (or request) whose body follows as a stream of chunks. */
export class Streamed {
  constructor(
    /** What the message's body would be without the stream (a RawBody for a peer with rawResponses). */
    readonly head: unknown,
    readonly body: ReadableStream<Uint8Array>,
  ) {}
}
