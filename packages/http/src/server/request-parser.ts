import { CR, LF } from "../_bytes.ts";
import { BodyReader } from "../body-reader.ts";
import { ParseError } from "../head-parser.ts";
import { HeadReader } from "../head-reader.ts";
import { type RequestHead, parseRequestHead } from "./request-head.ts";

export interface RequestLimits {
  /** The most bytes a request head may take (request line, fields, blank line): above it, 431. */
  maxHeadBytes: number;
  /** The most body bytes a request may carry: above it, 413. */
  maxBodyBytes: number;
}

export interface RequestEvents {
  /** The head has been read; body bytes, if any, follow through `onBody`. */
  onHead(head: RequestHead): void;
  /** Decoded body bytes: views of the read they came in, valid as long as the caller keeps them. */
  onBody(bytes: Uint8Array): void;
}

const enum Phase {
  Head,
  Body,
  Done,
}

/**
 * Parses one HTTP/1.1 request at a time, read by read. `push` stops at the end of the request, so
 * the bytes of a pipelined next request are left to the caller until it calls `reset`. Throws
 * ParseError (with the status to answer) on anything malformed or over a limit.
 */
export class RequestParser {
  private phase = Phase.Head;
  private readonly head: HeadReader;
  private readonly body: BodyReader;
  /** Body bytes of a chunked request so far, against maxBodyBytes (a length is checked up front). */
  private received = 0;

  constructor(
    private readonly events: RequestEvents,
    private readonly limits: RequestLimits,
  ) {
    this.body = new BodyReader((bytes) => {
      this.received += bytes.length;
      if (this.received > limits.maxBodyBytes) throw this.bodyTooLarge();
      events.onBody(bytes);
    });
    this.head = new HeadReader(limits.maxHeadBytes, () => new ParseError(`request head larger than ${limits.maxHeadBytes} bytes`, 431));
  }

  /** The whole request (head and body) has been read. */
  get done(): boolean {
    return this.phase === Phase.Done;
  }

  /** Some bytes of a head have arrived, but not all of it. */
  get headStarted(): boolean {
    return this.phase === Phase.Head && this.head.started;
  }

  /** Ready for the next request on the connection. */
  reset(): void {
    this.phase = Phase.Head;
    this.received = 0;
  }

  /** Feeds bytes[start..]; returns the index where this request ended (bytes.length while it goes on). */
  push(bytes: Uint8Array, start = 0): number {
    let i = start;
    while (i < bytes.length) {
      switch (this.phase) {
        case Phase.Head:
          i = this.pushHead(bytes, i);
          break;
        case Phase.Body:
          i = this.body.push(bytes, i);
          if (this.body.done) this.phase = Phase.Done;
          break;
        case Phase.Done:
          return i;
      }
    }
    return i;
  }

  private pushHead(bytes: Uint8Array, start: number): number {
    let i = start;
    if (!this.head.started) {
      // Empty lines before a request line are ignored (RFC 9112 §2.2): some clients send a CRLF after a POST body.
      while (i < bytes.length && (bytes[i] === CR || bytes[i] === LF)) i++;
      if (i === bytes.length) return i;
    }
    const text = this.head.read(bytes, i);
    if (text === null) return bytes.length;
    this.onHeadText(text);
    return this.head.end;
  }

  private onHeadText(text: string): void {
    const head = parseRequestHead(text);
    const framing = head.framing;
    if (framing.kind === "length" && framing.length > this.limits.maxBodyBytes) throw this.bodyTooLarge();
    this.events.onHead(head);
    switch (framing.kind) {
      case "none":
        this.phase = Phase.Done;
        break;
      case "length":
        this.body.startLength(framing.length);
        this.phase = Phase.Body;
        break;
      case "chunked":
        this.body.startChunked();
        this.phase = Phase.Body;
        break;
    }
  }

  private bodyTooLarge(): ParseError {
    return new ParseError(`request body larger than ${this.limits.maxBodyBytes} bytes`, 413);
  }
}
