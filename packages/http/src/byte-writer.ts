import { flushAtEndOfTurn } from "@switchyard/net";

/** The part of a Bun socket the writer needs: write returns how many bytes the kernel took (-1 if closed). */
export interface ByteSink {
  write(data: Uint8Array): number;
}

/** Writes at least this large go out at once; batching only pays for small ones. */
const DIRECT_WRITE_BYTES = 16 * 1024;

/**
 * Writes request bytes in order through a socket whose `write` may take only part of them.
 * Small writes wait for the end of the event-loop turn, so the requests of one turn leave
 * together (like FrameWriter in @switchyard/net: an upstream woken once per burst instead of once
 * per request measured 2x the throughput on loopback). What the kernel does not take is kept (as a
 * view, never copied) until `drain`; callers that stream wait on `drained()` before handing over
 * more, so at most one of their chunks is ever held here (a write while one waits is appended).
 */
export class ByteWriter {
  private pending: Uint8Array | null = null;
  /** `pending` waits for `drain` (the kernel is full), not for the end of the turn. */
  private blocked = false;
  private waiter: ((ok: boolean) => void) | null = null;
  private broken = false;
  /** Bytes the kernel has taken since the connection opened. */
  written = 0;
  /** When the kernel last took bytes (performance.now()), for the body idle timeout. */
  lastProgress = 0;

  constructor(private readonly sink: ByteSink) {}

  /** True if the kernel took everything now; false if it is queued (see `drained()`) or the socket is gone. */
  write(bytes: Uint8Array): boolean {
    if (this.broken) return false;
    if (this.pending !== null) {
      // Queued behind an earlier write (an interim 100 Continue, then the answer): kept in order, in one buffer.
      this.pending = Buffer.concat([this.pending, bytes]);
      return false;
    }
    if (bytes.length >= DIRECT_WRITE_BYTES) return this.push(bytes);
    this.pending = bytes;
    flushAtEndOfTurn(this);
    return false;
  }

  /** Resolves true once everything written has been taken by the kernel, false if the socket broke first. */
  drained(): Promise<boolean> {
    if (this.broken) return Promise.resolve(false);
    if (this.pending === null) return Promise.resolve(true);
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Nothing is waiting to be written. */
  get idle(): boolean {
    return this.pending === null;
  }

  /** End of the turn: write what was queued (unless the kernel is full, then `drain` will). */
  flush(): void {
    if (this.blocked) return;
    this.writePending();
  }

  /** The socket can take more. */
  onDrain(): void {
    this.blocked = false;
    this.writePending();
  }

  /** The socket is gone: drop what waits and tell the waiter. */
  close(): void {
    this.broken = true;
    this.pending = null;
    this.settle(false);
  }

  private writePending(): void {
    const pending = this.pending;
    if (pending === null || this.broken) return;
    this.pending = null;
    if (this.push(pending)) this.settle(true);
  }

  private push(bytes: Uint8Array): boolean {
    const taken = this.sink.write(bytes);
    if (taken < 0) {
      this.close();
      return false;
    }
    if (taken > 0) {
      this.written += taken;
      this.lastProgress = performance.now();
    }
    if (taken >= bytes.length) return true;
    this.pending = bytes.subarray(taken);
    this.blocked = true;
    return false;
  }

  private settle(ok: boolean): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.(ok);
  }
}
