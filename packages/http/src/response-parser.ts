import { BodyReader } from "./body-reader.ts";
import { ParseError, type ResponseHead, parseHead } from "./head-parser.ts";
import { HeadReader } from "./head-reader.ts";

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
  Body,
  Close,
  Done,
}

/**
 * Parses one HTTP/1.1 response incrementally, read by read, skipping interim (1xx) heads.
 * Throws ParseError on anything malformed; the connection is unusable after that.
 */
export class ResponseParser {
  private phase = Phase.Head;
  private readonly head: HeadReader;
  private readonly body: BodyReader;
  /** Some response byte (of an interim head, too) has arrived. */
  started = false;

  constructor(
    private readonly events: ResponseEvents,
    /** The request's method: a response to HEAD has no body whatever its headers say. */
    private readonly method: string,
    private readonly maxHead = MAX_HEAD_BYTES,
  ) {
    this.body = new BodyReader((bytes) => this.events.onBody(bytes));
    this.head = new HeadReader(maxHead, () => new ParseError(`response head larger than ${maxHead} bytes`));
  }

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
        case Phase.Body:
          i = this.body.push(bytes, i);
          if (this.body.done) this.phase = Phase.Done;
          break;
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
    const text = this.head.read(bytes, start);
    if (text === null) return bytes.length;
    this.onHeadText(text);
    return this.head.end;
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
        if (head.framing.length === 0) {
          this.phase = Phase.Done;
          break;
        }
        this.body.startLength(head.framing.length);
        this.phase = Phase.Body;
        break;
      case "chunked":
        this.body.startChunked();
        this.phase = Phase.Body;
        break;
      case "close":
        this.phase = Phase.Close;
        break;
    }
  }
}
