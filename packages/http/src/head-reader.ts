import { ByteAccumulator, latin1 } from "./_bytes.ts";
import type { ParseError } from "./head-parser.ts";
import { findHeadEnd } from "./head-parser.ts";

/**
 * Finds a message head (up to its blank line) in reads that may cut it anywhere: the usual head,
 * whole in one read, is decoded straight from it; a head in pieces is collected, but never beyond
 * `maxHead`, so an endless head is refused without buffering it.
 */
export class HeadReader {
  private readonly partial = new ByteAccumulator();
  /** After `read` returned a head: the index in its input just past the blank line. */
  end = 0;

  constructor(
    private readonly maxHead: number,
    private readonly tooLarge: () => ParseError,
  ) {}

  /** Some bytes of a head have been collected. */
  get started(): boolean {
    return this.partial.length > 0;
  }

  /** The head's text (without the final CRLFCRLF) once bytes[start..] completes it, else null (all of them taken). */
  read(bytes: Uint8Array, start: number): string | null {
    if (this.partial.length === 0) {
      const end = findHeadEnd(bytes, start);
      if (end < 0) {
        if (bytes.length - start > this.maxHead) throw this.tooLarge();
        this.partial.append(bytes.subarray(start));
        return null;
      }
      if (end - start > this.maxHead) throw this.tooLarge();
      this.end = end;
      return latin1(bytes, start, end - 4);
    }
    const before = this.partial.length;
    const room = this.maxHead + 1 - before;
    this.partial.append(bytes.subarray(start, start + Math.min(room, bytes.length - start)));
    const all = this.partial.view();
    const end = findHeadEnd(all, before - 3);
    if (end < 0 || end > this.maxHead) {
      if (this.partial.length > this.maxHead) throw this.tooLarge();
      return null;
    }
    const text = latin1(all, 0, end - 4);
    this.partial.clear();
    this.end = start + (end - before);
    return text;
  }
}
