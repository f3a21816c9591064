import type { HttpConnection } from "./connection.ts";

/** How far (bytes) the body's reader may fall behind before the socket stops reading. */
export const BODY_HIGH_WATER = 256 * 1024;

/**
 * The response body as a pull-based stream: bytes are queued as they arrive, and once the reader
 * is BODY_HIGH_WATER behind, the socket is paused (TCP pushes back on the upstream) until the
 * reader pulls again, so a huge download to a slow reader keeps memory bounded.
 */
export class ResponseBody {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Neither closed, errored nor cancelled. */
  private open = true;
  /** When the reader last asked for more (performance.now()), for the body idle timeout. */
  lastPull = 0;

  constructor(
    private readonly conn: HttpConnection,
    onCancel: () => void,
  ) {
    this.stream = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => {
          this.lastPull = performance.now();
          // Only while this body owns the connection: after close it may carry another exchange.
          if (this.open) this.conn.resume();
        },
        cancel: () => {
          if (!this.open) return;
          this.open = false;
          onCancel();
        },
      },
      { highWaterMark: BODY_HIGH_WATER, size: (chunk) => chunk?.byteLength ?? 0 },
    );
  }

  push(bytes: Uint8Array): void {
    if (!this.open || bytes.length === 0) return;
    this.controller.enqueue(bytes);
    if ((this.controller.desiredSize ?? 0) <= 0) this.conn.pause();
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    this.controller.close();
  }

  error(error: unknown): void {
    if (!this.open) return;
    this.open = false;
    this.controller.error(error);
  }
}
