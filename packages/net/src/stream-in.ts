import { STREAM_WINDOW } from "@switchyard/wire";
import { IdleTimer } from "./idle-timer.ts";
import { NetError } from "./errors.ts";
import { codeOf, type StreamLink } from "./stream-table.ts";

/** More credit is granted once the reader took half the window: one credit frame per 128 KiB, and the sender still has half a window to send while it travels. */
const GRANT_AT = STREAM_WINDOW / 2;

/**
 * The receiving end of one streamed body. Chunks wait here until the reader pulls them; the sender
 * may only send what was granted (STREAM_WINDOW at first, then what the reader consumed), so at
 * most one window waits here, whatever the speed of either side.
 */
export class InStream {
  readonly readable: ReadableStream<Uint8Array>;
  /** Chunks received and not yet read: chunks[first…]. */
  private chunks: Uint8Array[] = [];
  private first = 0;
  /** Bytes the sender may still send. */
  private allowed = STREAM_WINDOW;
  /** Bytes read since the last grant. */
  private consumed = 0;
  /** The sender sent its end marker: nothing more comes. */
  private ended = false;
  /** Closed, errored or cancelled: nothing more is delivered. */
  private done = false;
  private controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  /** Resolves a pull that found nothing to deliver. */
  private waiting: (() => void) | null = null;
  private readonly idle: IdleTimer;

  constructor(
    readonly id: number,
    private readonly link: StreamLink,
  ) {
    this.idle = new IdleTimer(link.idleMs, () => this.fail(new NetError("timeout", `stream ${id} made no progress for ${link.idleMs} ms`), true));
    // highWaterMark 0: the stream pulls only for a reader that asks, so chunks wait here, counted against the window.
    this.readable = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.controller = controller;
        },
        pull: () => this.onPull(),
        cancel: (reason) => this.onCancel(reason),
      },
      { highWaterMark: 0 },
    );
  }

  /** A chunk from the sender; `end` marks the last one. */
  onData(chunk: Uint8Array, end: boolean): void {
    if (this.done || this.ended) return;
    if (chunk.length > this.allowed) {
      this.fail(new NetError("aborted", `stream ${this.id}: the sender sent ${chunk.length} bytes with only ${this.allowed} granted`), true);
      return;
    }
    this.allowed -= chunk.length;
    this.idle.touch();
    if (chunk.length > 0) this.chunks.push(chunk);
    if (end) {
      this.ended = true;
      this.link.forget(this);
    }
    this.wake();
  }

  /** Errors the reader with `error`; `notify` tells the sender to stop (when it was not the sender that broke off). */
  fail(error: NetError, notify: boolean): void {
    if (this.done) return;
    this.stop();
    if (notify && !this.ended) this.link.send({ t: "cancel", id: this.id, code: codeOf(error), message: error.message });
    this.controller?.error(error);
  }

  private onPull(): Promise<void> | undefined {
    if (this.done || this.deliver()) return undefined;
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  /** Hands the reader the next chunk, or the end; false if there is nothing to hand yet. */
  private deliver(): boolean {
    const chunk = this.chunks[this.first];
    if (chunk !== undefined) {
      this.take();
      this.controller?.enqueue(chunk);
      this.idle.touch();
      this.consumed += chunk.length;
      if (this.consumed >= GRANT_AT && !this.ended) {
        this.link.send({ t: "credit", id: this.id, bytes: this.consumed });
        this.allowed += this.consumed;
        this.consumed = 0;
      }
      return true;
    }
    if (!this.ended) return false;
    this.stop();
    this.controller?.close();
    return true;
  }

  /** Drops the first waiting chunk; the array is reset or compacted so it never grows without bound. */
  private take(): void {
    this.chunks[this.first++] = EMPTY;
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 1024 && this.first * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }

  /** Answers a pull that is waiting, if there is something for it now. */
  private wake(): void {
    const resolve = this.waiting;
    if (resolve === null || !this.deliver()) return;
    this.waiting = null; // (already null if deliver ended the stream: stop released it)
    resolve();
  }

  /** The reader cancelled: the sender must stop (unless it has already finished). */
  private onCancel(reason: unknown): void {
    if (this.done) return;
    this.stop();
    if (!this.ended) {
      const message = reason instanceof Error ? reason.message : reason === undefined ? "the reader cancelled the stream" : String(reason);
      this.link.send({ t: "cancel", id: this.id, code: reason instanceof NetError ? codeOf(reason) : "cancelled", message });
    }
  }

  /** Nothing more is delivered; a pull still waiting is released (the caller closes or errors the stream next). */
  private stop(): void {
    this.done = true;
    this.chunks = [];
    this.first = 0;
    this.idle.stop();
    this.link.forget(this);
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.();
  }
}

const EMPTY = new Uint8Array(0);
