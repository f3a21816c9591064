import { STREAM_CHUNK, STREAM_WINDOW } from "@switchyard/wire";
import { IdleTimer } from "./idle-timer.ts";
import { NetError } from "./errors.ts";
import { asNetError, codeOf, type StreamTable } from "./stream-table.ts";

const END = new Uint8Array(0);

/** The part of a stream reader the pump uses (Bun's and Node's reader types differ elsewhere). */
interface SourceReader {
  read(): Promise<{ done: boolean; value?: Uint8Array | undefined }>;
  cancel(reason?: unknown): Promise<void>;
}

/**
 * The sending end of one streamed body: reads `source` only while the receiver has credit left, and
 * sends what it read as chunks of at most STREAM_CHUNK, then the end marker. So it holds at most
 * one chunk of the source, and a slow receiver stops it from reading.
 *
 * Until `start` it has not touched `source` at all (a request that never left may be retried
 * elsewhere with the same stream); stopping it before then leaves `source` as it was.
 */
export class OutStream {
  private credit = STREAM_WINDOW;
  private reader: SourceReader | null = null;
  /** Resolves the pump's wait for credit (or for being stopped). */
  private waiting: (() => void) | null = null;
  private idle: IdleTimer | null = null;
  /** The connection's streams, from `start` on. */
  private table: StreamTable | null = null;
  private done = false;

  /** `onDone` runs once it stopped: with null after the end was sent or the receiver cancelled, else with why it failed. */
  constructor(
    readonly id: number,
    private readonly source: ReadableStream<Uint8Array>,
    private readonly onDone?: (failure: NetError | null) => void,
  ) {}

  get started(): boolean {
    return this.table !== null;
  }

  /** Locks `source` at once (so its owner sees it in use) and sends it on the connection of `table`. */
  start(table: StreamTable): void {
    if (this.table !== null || this.done) return;
    this.table = table;
    if (this.source.locked) {
      this.abort(new NetError("aborted", `stream ${this.id}: its source is already being read (a stream can be sent only once)`));
      return;
    }
    const reader: SourceReader = this.source.getReader();
    this.reader = reader;
    if (!table.register(this)) {
      this.abort(table.closeError ?? new NetError("connection_lost", "connection closed"));
      return;
    }
    const idleMs = table.idleMs;
    this.idle = new IdleTimer(idleMs, () => this.abort(new NetError("timeout", `stream ${this.id} made no progress for ${idleMs} ms`)));
    void this.pump(reader);
  }

  onCredit(bytes: number): void {
    this.credit += bytes;
    this.idle?.touch();
    this.wake();
  }

  /** The receiver wants no more: stop reading the source, send nothing more. */
  onCancel(code: string, message: string): void {
    this.stop(new NetError("remote", message, code), false, null);
  }

  /** Breaks off: the receiver is told (its stream errors with `error`), the source is cancelled. */
  abort(error: NetError): void {
    this.stop(error, true, error);
  }

  private async pump(reader: SourceReader): Promise<void> {
    const table = this.table as StreamTable; // set by start, the only caller
    try {
      for (;;) {
        if (this.credit <= 0) await this.creditArrives();
        if (this.done) return;
        const { value, done } = await reader.read();
        if (this.done) return;
        if (done) return this.finish();
        if (!(value instanceof Uint8Array)) throw new TypeError("a streamed body must yield Uint8Array chunks");
        for (let at = 0; at < value.length; ) {
          if (this.credit <= 0) await this.creditArrives();
          if (this.done) return;
          const n = Math.min(value.length - at, STREAM_CHUNK, this.credit);
          table.send({ t: "data", id: this.id, chunk: value.subarray(at, at + n) });
          this.credit -= n;
          at += n;
          this.idle?.touch();
        }
      }
    } catch (error) {
      this.abort(asNetError(error, `stream ${this.id}: its source failed`));
    }
  }

  private creditArrives(): Promise<void> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  private wake(): void {
    const resolve = this.waiting;
    this.waiting = null;
    resolve?.();
  }

  private finish(): void {
    if (this.done) return;
    this.table?.send({ t: "data", id: this.id, chunk: END, end: true });
    this.stop(null, false, null);
  }

  /** `reason` cancels the source (if it was started); `tell` sends `abort`; `failure` is what onDone hears. */
  private stop(reason: NetError | null, tell: boolean, failure: NetError | null): void {
    if (this.done) return;
    this.done = true;
    this.idle?.stop();
    this.table?.forget(this);
    // Before start the receiver expects nothing yet, and the source is left untouched.
    if (tell && reason !== null) this.table?.send({ t: "abort", id: this.id, code: codeOf(reason), message: reason.message });
    // Cancelling a source that already ended or failed is a no-op; its own error was already handled.
    if (this.reader !== null && reason !== null) this.reader.cancel(reason).catch(() => {});
    this.wake();
    this.onDone?.(failure);
  }
}
