// Byte helpers shared by the parsers and the request writer; never exported from index.ts.

export const CR = 13;
export const LF = 10;

// Buffer's native latin1 decoder works on any Uint8Array; calling it directly avoids wrapping
// the read in a Buffer, which makes the engine materialise the ArrayBuffer behind it (measured 2x).
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** Decodes bytes 1:1 to a string (HTTP heads are octets; latin1 round-trips obs-text). */
export function latin1(bytes: Uint8Array, start = 0, end = bytes.length): string {
  return latin1Slice.call(bytes, start, end);
}

/** Encodes a string of code points 0-255 1:1 to bytes (callers validate the range first). */
export function encodeLatin1(text: string): Buffer {
  return Buffer.from(text, "latin1");
}

/**
 * An append-only byte buffer that grows by doubling, for heads and trailers that arrive in
 * pieces: appending each piece to a fresh concatenation would be quadratic in a dribbling peer.
 */
const EMPTY = new Uint8Array(0);

export class ByteAccumulator {
  // Shared until the first append: most heads arrive whole and never need one.
  private buffer = EMPTY;
  length = 0;

  append(bytes: Uint8Array): void {
    const needed = this.length + bytes.length;
    if (needed > this.buffer.length) {
      const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2, 1024));
      grown.set(this.buffer.subarray(0, this.length));
      this.buffer = grown;
    }
    this.buffer.set(bytes, this.length);
    this.length = needed;
  }

  /** A view of what was appended (valid until the next append). */
  view(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  clear(): void {
    this.buffer = EMPTY;
    this.length = 0;
  }
}
