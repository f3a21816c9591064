/** The socket a body is read from: paused while the reader is behind. */
export interface Flow {
  pause(): void;
  resume(): void;
}

/** How far (bytes) the body's reader may fall behind before the socket stops reading. */
export const BODY_HIGH_WATER = 256 * 1024;

/**
 * A body arriving on a socket (a response the client reads, a request the server reads) as a
 * pull-based stream: bytes are queued as they arrive, and once the reader is BODY_HIGH_WATER
 * behind, the socket is paused (TCP pushes back on the sender) until the reader pulls again, so a
 * huge body for a slow reader keeps memory bounded.
 */
export class InboundBody {
  readonly stream: ReadableStream<Uint8Array>;
  private controller!: ReadableStreamDefaultController<Uint8Array>;
  /** Neither closed, errored nor cancelled. */
  private open = true;
  /** When the reader last asked for more (performance.now()), for the body idle timeout. */
  lastPull = 0;

  constructor(
    private readonly flow: Flow,
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
          if (this.open) this.flow.resume();
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
    if ((this.controller.desiredSize ?? 0) <= 0) this.flow.pause();
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
