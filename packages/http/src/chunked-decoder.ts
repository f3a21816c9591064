import { ByteAccumulator, CR, LF, latin1 } from "./_bytes.ts";
import { BAD_OCTETS, ParseError, findHeadEnd, parseFieldLines } from "./head-parser.ts";

const MAX_SIZE_DIGITS = 12; // 256 TiB per chunk: far above anything real, far below 2^53
const MAX_EXTENSION = 4096;
const MAX_TRAILERS = 16 * 1024;

const enum State {
  Size,
  Extension,
  SizeLf,
  Data,
  DataCr,
  DataLf,
  Trailers,
  Done,
}

/**
 * Decodes a chunked body incrementally (RFC 9112 §7.1): data is handed out as views of the input,
 * extensions are skipped, trailers are checked and dropped. Strict about CRLF so a body cannot
 * be read two ways.
 */
export class ChunkedDecoder {
  private state = State.Size;
  private size = 0;
  private digits = 0;
  private extension = 0;
  private readonly trailers = new ByteAccumulator();

  constructor(private readonly onData: (bytes: Uint8Array) => void) {}

  get done(): boolean {
    return this.state === State.Done;
  }

  /** Decodes bytes[start..]; returns the index after the last byte that belonged to the body. */
  push(bytes: Uint8Array, start: number): number {
    let i = start;
    const end = bytes.length;
    while (i < end) {
      switch (this.state) {
        case State.Size: {
          const c = bytes[i]!;
          const digit = hexValue(c);
          if (digit >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw new ParseError("chunk size too large");
            this.size = this.size * 16 + digit;
          } else if (this.digits === 0) {
            throw new ParseError("malformed chunk size");
          } else if (c === CR) {
            this.state = State.SizeLf;
          } else if (c === 0x3b || c === 0x20 || c === 0x09) {
            this.state = State.Extension; // ";ext" (BWS allowed before it); ignored
          } else {
            throw new ParseError("malformed chunk size");
          }
          i++;
          break;
        }
        case State.Extension: {
          const c = bytes[i++]!;
          if (c === CR) this.state = State.SizeLf;
          else if (c === LF || ++this.extension > MAX_EXTENSION) throw new ParseError("malformed chunk extension");
          break;
        }
        case State.SizeLf:
          if (bytes[i++] !== LF) throw new ParseError("chunk size line not ended by CRLF");
          this.state = this.size === 0 ? State.Trailers : State.Data;
          break;
        case State.Data: {
          const take = Math.min(this.size, end - i);
          this.onData(bytes.subarray(i, i + take));
          i += take;
          this.size -= take;
          if (this.size === 0) this.state = State.DataCr;
          break;
        }
        case State.DataCr:
          if (bytes[i++] !== CR) throw new ParseError("chunk data not followed by CRLF");
          this.state = State.DataLf;
          break;
        case State.DataLf:
          if (bytes[i++] !== LF) throw new ParseError("chunk data not followed by CRLF");
          this.state = State.Size;
          this.size = 0;
          this.digits = 0;
          this.extension = 0;
          break;
        case State.Trailers:
          i = this.pushTrailers(bytes, i);
          break;
        case State.Done:
          return i;
      }
    }
    return i;
  }

  /** Collects the trailer section up to its blank line, then validates and drops it. */
  private pushTrailers(bytes: Uint8Array, start: number): number {
    const before = this.trailers.length;
    // Look at most at what could still fit, so a flood of trailer bytes is rejected without copying it.
    const slice = bytes.subarray(start, start + Math.min(bytes.length - start, MAX_TRAILERS + 4 - before));
    this.trailers.append(slice);
    const all = this.trailers.view();
    // The section is either just CRLF (no trailers) or field lines ending in CRLFCRLF.
    let endAt = -1;
    if (all.length >= 2 && all[0] === CR && all[1] === LF) endAt = 2;
    else endAt = findHeadEnd(all, before - 3);
    if (endAt < 0) {
      if (this.trailers.length > MAX_TRAILERS) throw new ParseError("chunked trailers too large");
      return start + slice.length;
    }
    if (endAt > 2) {
      const text = latin1(all, 0, endAt - 4);
      if (BAD_OCTETS.test(text)) throw new ParseError("malformed trailer");
      parseFieldLines(text.split("\r\n"), 0);
    }
    this.trailers.clear();
    this.state = State.Done;
    return start + (endAt - before);
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
