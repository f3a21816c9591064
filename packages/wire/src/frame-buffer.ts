import { HEADER_BYTES, bodyBytes, encodeBody, hasEnvelope } from "./codec.ts";
import { envelopeHeadSize, writeEnvelopeHead } from "./envelope.ts";
import type { Message } from "./messages.ts";
import { RawBody } from "./raw-body.ts";

const INITIAL_BYTES = 64 * 1024;

/**
 * Frames appended back to back, ready for one socket write. A req or res is written in place
 * (length prefix, envelope, body bytes): no array per frame, one copy of the body in all.
 */
export class FrameBuffer {
  private buf = new Uint8Array(INITIAL_BYTES);
  private len = 0;

  /** Bytes appended and not yet consumed. */
  get length(): number {
    return this.len;
  }

  /** The bytes waiting, as a view that is valid until the next append or consume. */
  view(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  /** Appends one frame; throws (appending nothing) if MessagePack cannot carry the message. */
  append(message: Message): void {
    if (!hasEnvelope(message)) return this.appendBody(encodeBody(message));
    const body = message.body instanceof RawBody ? message.body : bodyBytes(message.body);
    const size = envelopeHeadSize(message) + body.length;
    const at = this.reserve(HEADER_BYTES + size);
    const b = this.buf;
    writeLength(b, at, size);
    const bodyAt = writeEnvelopeHead(message, b, at + HEADER_BYTES);
    if (body instanceof RawBody) body.copyTo(b, bodyAt);
    else b.set(body, bodyAt);
    this.len = at + HEADER_BYTES + size;
  }

  /** Drops the first `bytes` (the part a socket took). */
  consume(bytes: number): void {
    if (bytes >= this.len) {
      this.len = 0;
      // A burst may have grown the buffer a lot: give the memory back once it is empty.
      if (this.buf.length > 16 * INITIAL_BYTES) this.buf = new Uint8Array(INITIAL_BYTES);
      return;
    }
    this.buf.copyWithin(0, bytes, this.len);
    this.len -= bytes;
  }

  /** Drops everything. */
  clear(): void {
    this.consume(this.len);
  }

  private appendBody(body: Uint8Array): void {
    const at = this.reserve(HEADER_BYTES + body.length);
    writeLength(this.buf, at, body.length);
    this.buf.set(body, at + HEADER_BYTES);
    this.len = at + HEADER_BYTES + body.length;
  }

  /** Makes room for `bytes` more and returns where they go. */
  private reserve(bytes: number): number {
    const need = this.len + bytes;
    if (need > this.buf.length) {
      let size = this.buf.length * 2;
      while (size < need) size *= 2;
      const next = new Uint8Array(size);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
    }
    return this.len;
  }
}

function writeLength(b: Uint8Array, at: number, n: number): void {
  b[at] = n >>> 24;
  b[at + 1] = (n >>> 16) & 0xff;
  b[at + 2] = (n >>> 8) & 0xff;
  b[at + 3] = n & 0xff;
}
