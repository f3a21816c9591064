/**
 * A body kept as the MessagePack bytes it arrived in. A hop that only routes a message sends these
 * bytes on as they are instead of decoding and re-encoding them (that work was half of a hop's CPU).
 * It holds a range of the buffer the frame was read into, so reading a frame creates no view of
 * its body: in JavaScriptCore a typed-array view costs more than copying a small body byte by byte.
 */
export class RawBody {
  private view: Uint8Array | undefined;

  constructor(
    readonly source: Uint8Array,
    readonly start = 0,
    readonly end = source.length,
  ) {}

  get length(): number {
    return this.end - this.start;
  }

  /** The bytes as one Uint8Array (a view of the source, made on first use). */
  get bytes(): Uint8Array {
    this.view ??= this.start === 0 && this.end === this.source.length ? this.source : this.source.subarray(this.start, this.end);
    return this.view;
  }

  /** Copies the bytes into out[at…]; returns the offset after them. */
  copyTo(out: Uint8Array, at: number): number {
    const { source, start, end } = this;
    if (end - start > 64) {
      out.set(this.bytes, at);
      return at + (end - start);
    }
    for (let i = start; i < end; i++) out[at++] = source[i]!;
    return at;
  }
}
