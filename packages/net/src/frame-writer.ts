import { type Message, encodeBody, HEADER_BYTES } from "@switchyard/wire";

/** The part of a Bun socket the writer needs: write returns how many bytes the kernel took. */
export interface ByteSink {
  write(data: Uint8Array): number;
}

const INITIAL_BYTES = 64 * 1024;

/**
 * Frames queued during one event-loop turn leave in one write (batching is worth 2-3x at load).
 * When the kernel takes less than everything, the rest waits for `drain`: nothing is written
 * out of order and nothing is dropped. `backlog` lets owners stop reading from a fast producer.
 */
export class FrameWriter {
  private buf = new Uint8Array(INITIAL_BYTES);
  private len = 0;
  private blocked = false;
  private scheduled = false;
  private dead = false;
  private onEmpty: (() => void) | null = null;

  constructor(private readonly sink: ByteSink) {}

  /** Bytes queued and not yet taken by the kernel. */
  get backlog(): number {
    return this.len;
  }

  send(message: Message): void {
    if (this.dead) return;
    const body = encodeBody(message);
    const need = this.len + HEADER_BYTES + body.length;
    if (need > this.buf.length) this.grow(need);
    const at = this.len;
    const b = this.buf;
    const n = body.length;
    b[at] = n >>> 24;
    b[at + 1] = (n >>> 16) & 0xff;
    b[at + 2] = (n >>> 8) & 0xff;
    b[at + 3] = n & 0xff;
    b.set(body, at + HEADER_BYTES);
    this.len = need;
    if (!this.scheduled && !this.blocked) {
      this.scheduled = true;
      scheduleFlush(this);
    }
  }

  /** Writes what is queued now (also called by the scheduler at the end of the turn). */
  flush(): void {
    this.scheduled = false;
    if (this.blocked || this.len === 0 || this.dead) return;
    const written = this.sink.write(this.buf.subarray(0, this.len));
    if (written < 0) {
      this.close();
    } else if (written < this.len) {
      this.buf.copyWithin(0, written, this.len);
      this.len -= written;
      this.blocked = true;
    } else {
      this.len = 0;
      if (this.buf.length > 16 * INITIAL_BYTES) this.buf = new Uint8Array(INITIAL_BYTES);
      const onEmpty = this.onEmpty;
      this.onEmpty = null;
      onEmpty?.();
    }
  }

  /** Runs `callback` once everything queued so far has been taken by the kernel (now, if nothing is queued). */
  whenFlushed(callback: () => void): void {
    if (this.len === 0 || this.dead) callback();
    else this.onEmpty = callback;
  }

  /** The socket can take more: continue where the kernel stopped. */
  onDrain(): void {
    this.blocked = false;
    this.flush();
  }

  /** Drops whatever is queued; later sends are ignored. */
  close(): void {
    this.dead = true;
    this.len = 0;
  }

  private grow(need: number): void {
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
}

// One flush pass per event-loop turn for every writer that has something queued.
let queue: FrameWriter[] = [];
let armed = false;

function scheduleFlush(writer: FrameWriter): void {
  queue.push(writer);
  if (!armed) {
    armed = true;
    setImmediate(flushAll);
  }
}

function flushAll(): void {
  armed = false;
  const writers = queue;
  queue = [];
  for (const writer of writers) writer.flush();
}
