import { DEFAULT_MAX_FRAME, type DecodeOptions, HEADER_BYTES, decodeBody } from "./codec.ts";
import { WireError } from "./errors.ts";
import type { Message } from "./messages.ts";

export interface FrameReaderOptions {
  maxFrame?: number;
  decode?: DecodeOptions;
  onMessage: (message: Message) => void;
  /** A bad frame or message; `fatal` means framing is lost and the connection must close. */
  onError: (error: WireError, fatal: boolean) => void;
}

/**
 * Turns a byte stream into messages. Chunks may split frames anywhere; a frame whose body is
 * split is assembled in one buffer of exactly its size, allocated only after its length passed
 * the maximum. It never throws: every problem goes to `onError`.
 *
 * Messages may keep views into the chunk they came in (request bodies, raw response bodies), so a
 * chunk must not be reused after `push`: each socket read in Bun is a fresh ArrayBuffer.
 */
export class FrameReader {
  private readonly maxFrame: number;
  private readonly decode: DecodeOptions;
  private readonly onMessage: (message: Message) => void;
  private readonly onError: (error: WireError, fatal: boolean) => void;
  private readonly head = new Uint8Array(HEADER_BYTES);
  private headFill = 0;
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  private failed = false;
  private stopped = false;

  constructor(options: FrameReaderOptions) {
    this.maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
    this.decode = options.decode ?? {};
    this.onMessage = options.onMessage;
    this.onError = options.onError;
  }

  /** Bytes of an unfinished frame received so far (its length prefix included), 0 between frames. */
  get buffered(): number {
    return this.body === null ? this.headFill : HEADER_BYTES + this.bodyFill;
  }

  /** True once `stop()` was called: nothing more is delivered. */
  get isStopped(): boolean {
    return this.stopped;
  }

  /**
   * Delivers nothing more: the rest of the chunk being read (when called from a callback) and
   * every later push are ignored, and a partly received frame is dropped. For a connection that
   * is closing, so frames after a refusal or after the close are not acted on.
   */
  stop(): void {
    this.stopped = true;
    this.body = null;
    this.bodyFill = 0;
    this.headFill = 0;
  }

  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length && !this.failed && !this.stopped) {
      if (this.body === null) {
        let length: number;
        if (this.headFill === 0 && chunk.length - off >= HEADER_BYTES) {
          length = readLength(chunk, off);
          off += HEADER_BYTES;
        } else {
          const n = Math.min(HEADER_BYTES - this.headFill, chunk.length - off);
          this.head.set(chunk.subarray(off, off + n), this.headFill);
          this.headFill += n;
          off += n;
          if (this.headFill < HEADER_BYTES) return;
          this.headFill = 0;
          length = readLength(this.head, 0);
        }
        if (length > this.maxFrame) {
          this.failed = true;
          this.onError(new WireError("frame_too_large", `frame of ${length} bytes exceeds the maximum of ${this.maxFrame}`), true);
          return;
        }
        if (chunk.length - off >= length) {
          // Fast path: the whole body is in this chunk, decode it in place.
          this.deliver(chunk, off, off + length);
          off += length;
          continue;
        }
        // Backed by an ArrayBuffer of its own from the start: decoding views of it then costs nothing extra.
        this.body = new Uint8Array(new ArrayBuffer(length));
        this.bodyFill = 0;
      }
      const n = Math.min(this.body.length - this.bodyFill, chunk.length - off);
      this.body.set(chunk.subarray(off, off + n), this.bodyFill);
      this.bodyFill += n;
      off += n;
      if (this.bodyFill === this.body.length) {
        const body = this.body;
        this.body = null;
        this.bodyFill = 0;
        this.deliver(body, 0, body.length);
      }
    }
  }

  private deliver(bytes: Uint8Array, start: number, end: number): void {
    let message: Message;
    try {
      message = decodeBody(bytes, this.decode, start, end);
    } catch (error) {
      this.onError(error as WireError, false);
      return;
    }
    this.onMessage(message);
  }
}

function readLength(bytes: Uint8Array, at: number): number {
  // `>>> 0` keeps the top bit from making the length negative.
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}
