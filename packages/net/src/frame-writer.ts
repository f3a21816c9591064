import { FrameBuffer, type Message } from "@switchyard/wire";
import { flushAtEndOfTurn } from "./end-of-turn.ts";

/** The part of a Bun socket the writer needs: write returns how many bytes the kernel took. */
export interface ByteSink {
  write(data: Uint8Array): number;
}

/**
 * Frames queued during one event-loop turn leave in one write (batching is worth 2-3x at load).
 * When the kernel takes less than everything, the rest waits for `drain`: nothing is written
 * out of order and nothing is dropped. `backlog` lets owners stop reading from a fast producer.
 */
export class FrameWriter {
  private readonly frames = new FrameBuffer();
  private blocked = false;
  private scheduled = false;
  private dead = false;
  private onEmpty: (() => void) | null = null;

  constructor(private readonly sink: ByteSink) {}

  /** Bytes queued and not yet taken by the kernel. */
  get backlog(): number {
    return this.frames.length;
  }

  /** Queues one frame; throws (queueing nothing) if MessagePack cannot carry the message. */
  send(message: Message): void {
    if (this.dead) return;
    this.frames.append(message);
    if (!this.scheduled && !this.blocked) {
      this.scheduled = true;
      flushAtEndOfTurn(this);
    }
  }

  /** Writes what is queued now (also called by the scheduler at the end of the turn). */
  flush(): void {
    this.scheduled = false;
    const queued = this.frames.length;
    if (this.blocked || queued === 0 || this.dead) return;
    const written = this.sink.write(this.frames.view());
    if (written < 0) {
      this.close();
      return;
    }
    this.frames.consume(written);
    if (written < queued) {
      this.blocked = true;
    } else {
      const onEmpty = this.onEmpty;
      this.onEmpty = null;
      onEmpty?.();
    }
  }

  /** Runs `callback` once everything queued so far has been taken by the kernel (now, if nothing is queued). */
  whenFlushed(callback: () => void): void {
    if (this.frames.length === 0 || this.dead) callback();
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
    this.frames.clear();
  }
}
