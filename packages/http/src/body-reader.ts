import { ChunkedDecoder } from "./chunked-decoder.ts";

/**
 * A message body framed by a length or by chunked coding, read as it arrives: the decoded bytes
 * go to `onBody` as views of the reads they came in (no copy), and `push` stops at the body's end.
 */
export class BodyReader {
  private remaining = 0;
  private chunked: ChunkedDecoder | null = null;
  /** The body has ended (true before a body is started, too). */
  done = true;

  constructor(private readonly onBody: (bytes: Uint8Array) => void) {}

  /** The next `length` bytes are the body (length > 0). */
  startLength(length: number): void {
    this.remaining = length;
    this.chunked = null;
    this.done = false;
  }

  /** The body is chunked. */
  startChunked(): void {
    this.chunked = new ChunkedDecoder(this.onBody);
    this.done = false;
  }

  /** Reads bytes[start..]; returns the index after the last byte of the body taken. */
  push(bytes: Uint8Array, start: number): number {
    const decoder = this.chunked;
    if (decoder !== null) {
      const end = decoder.push(bytes, start);
      this.done = decoder.done;
      return end;
    }
    const take = Math.min(this.remaining, bytes.length - start);
    this.onBody(bytes.subarray(start, start + take));
    this.remaining -= take;
    this.done = this.remaining === 0;
    return start + take;
  }
}
