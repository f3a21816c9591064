import { ByteAccumulator, latin1 } from "./_bytes.ts";
import { ChunkedDecoder } from "./chunked-decoder.ts";
import { ParseError, type ResponseHead, findHeadEnd, parseHead } from "./head-parser.ts";

/** The most bytes a response head may take (status line, fields, blank line). */
export const MAX_HEAD_BYTES = 64 * 1024;

export interface ResponseEvents {
  /** The final (non-1xx) head; body bytes, if any, follow through `onBody`. */
  onHead(head: ResponseHead): void;
  /** Decoded body bytes: views of the read they came in, valid as long as the caller keeps them. */
  onBody(bytes: Uint8Array): void;
}

const enum Phase {
  Head,
  Length,
  Chunked,
  Close,
  Done,
}

/**
 * Parses one HTTP/1.1 response incrementally, read by read, skipping interim (1xx) heads.
 * Throws ParseError on anything malformed; the connection is unusable after that.
 */
export class ResponseParser {
  private phase = Phase.Head;
  /** Head bytes kept only while a head spans several reads. */
  private readonly partialHead = new ByteAccumulator();
  private remaining = 0;
  private chunked: ChunkedDecoder | null = null;
  /** Some response byte (of an interim head, too) has arrived. */
  started = false;

  constructor(
    private readonly events: ResponseEvents,
    /** The request's method: a response to HEAD has no body whatever its headers say. */
    private readonly method: string,
    private readonly maxHead = MAX_HEAD_BYTES,
  ) {}

  /** The whole response has arrived. */
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  /** True when the body is delimited by the upstream closing the connection. */
  get closeDelimited(): boolean {
    return this.phase === Phase.Close;
  }

  /** Feeds one read; returns how many of its bytes came after the end of the response (normally 0). */
  push(bytes: Uint8Array): number {
    if (bytes.length > 0) this.started = true;
    let i = 0;
    while (i < bytes.length) {
      switch (this.phase) {
        case Phase.Head:
          i = this.pushHead(bytes, i);
          break;
        case Phase.Length: {
          const take = Math.min(this.remaining, bytes.length - i);
          this.events.onBody(bytes.subarray(i, i + take));
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.phase = Phase.Done;
          break;
        }
        case Phase.Chunked: {
          const decoder = this.chunked!;
          i = decoder.push(bytes, i);
          if (decoder.done) this.phase = Phase.Done;
          break;
        }
        case Phase.Close:
          this.events.onBody(i === 0 ? bytes : bytes.subarray(i));
          i = bytes.length;
          break;
        case Phase.Done:
          return bytes.length - i;
      }
    }
    return 0;
  }

  /** The upstream closed its side: true if that completes the response (a close-delimited body). */
  eof(): boolean {
    if (this.phase === Phase.Close) this.phase = Phase.Done;
    return this.phase === Phase.Done;
  }

  private pushHead(bytes: Uint8Array, start: number): number {
    if (this.partialHead.length === 0) {
      const end = findHeadEnd(bytes, start);
      if (end < 0) {
        if (bytes.length - start > this.maxHead) throw this.tooLarge();
        this.partialHead.append(bytes.subarray(start));
        return bytes.length;
      }
      if (end - start > this.maxHead) throw this.tooLarge();
      this.onHeadText(latin1(bytes, start, end - 4));
      return end;
    }
    const before = this.partialHead.length;
    // Copy no more than could still be head, so an endless head is rejected without buffering it.
    const room = this.maxHead + 1 - before;
    this.partialHead.append(bytes.subarray(start, start + Math.min(room, bytes.length - start)));
    const all = this.partialHead.view();
    const end = findHeadEnd(all, before - 3);
    if (end < 0 || end > this.maxHead) {
      if (this.partialHead.length > this.maxHead) throw this.tooLarge();
      return bytes.length;
    }
    const text = latin1(all, 0, end - 4);
    this.partialHead.clear();
    this.onHeadText(text);
    return start + (end - before);
  }

  private onHeadText(text: string): void {
    const head = parseHead(text, this.method);
    // 100 Continue, 102, 103 Early Hints: the real answer follows on the same connection.
    if (head.status < 200) return;
    this.events.onHead(head);
    switch (head.framing.kind) {
      case "none":
        this.phase = Phase.Done;
        break;
      case "length":
        this.remaining = head.framing.length;
        this.phase = this.remaining === 0 ? Phase.Done : Phase.Length;
        break;
      case "chunked":
        this.chunked = new ChunkedDecoder((data) => this.events.onBody(data));
        this.phase = Phase.Chunked;
        break;
      case "close":
        this.phase = Phase.Close;
        break;
    }
  }

  private tooLarge(): ParseError {
    return new ParseError(`response head larger than ${this.maxHead} bytes`);
  }
}
