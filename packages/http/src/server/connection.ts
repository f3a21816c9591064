import type { Socket } from "bun";
import { ByteAccumulator } from "../_bytes.ts";
import { ByteWriter } from "../byte-writer.ts";
import { ParseError } from "../head-parser.ts";
import { type Flow, InboundBody } from "../inbound-body.ts";
import { pumpStream } from "../stream-pump.ts";
import type { RequestHead } from "./request-head.ts";
import { RequestParser } from "./request-parser.ts";
import { InvalidResponse, type ResponseFraming, bodiless, renderResponseHead } from "./response-head.ts";
import type { HttpHandler, HttpServerLimits, IncomingRequest, OutgoingResponse } from "./types.ts";

/** What a connection needs from its server. */
export interface ConnectionHost {
  readonly handler: HttpHandler;
  readonly limits: HttpServerLimits;
  /** The server is stopping: answer with `Connection: close`, and close idle connections. */
  readonly stopping: boolean;
  onError(error: unknown, request: IncomingRequest): void;
  closed(conn: ServerConnection): void;
}

/** Answers written whole; larger bodies go out after their head in a second write. */
const ONE_WRITE_BYTES = 64 * 1024;
const CONTINUE = Buffer.from("HTTP/1.1 100 Continue\r\n\r\n", "latin1");

/** The request being answered, from its head until its answer is written. */
interface Exchange {
  head: RequestHead;
  keepAlive: boolean;
  /** The body, collected whole before the handler runs (small, of known length). */
  collected: Uint8Array[] | null;
  /** The body as a stream the handler reads. */
  inbound: InboundBody | null;
  /** The handler has been called. */
  dispatched: boolean;
  /** The answer's head has been written (an error can no longer be answered, only the connection dropped). */
  answered: boolean;
  /** Cancels the answer's body stream, if one is being written. */
  stopBody: ((reason: unknown) => void) | null;
}

/**
 * One client connection of the HTTP/1.1 server: parses requests one at a time, runs the handler,
 * writes its answer with backpressure, and keeps the connection for the next request when both
 * sides allow it. Bytes of a pipelined request wait until the previous answer is written.
 */
export class ServerConnection implements Flow {
  readonly writer: ByteWriter;
  private readonly parser: RequestParser;
  private exchange: Exchange | null = null;
  /** Bytes that arrived after the current request ended (pipelining), kept until its answer is out. */
  private readonly waiting = new ByteAccumulator();
  private paused = false;
  /** The last answer is going out and the connection closes after it. */
  ending = false;
  closed = false;
  /** performance.now() of the last read, write or state change: what the timeouts measure from. */
  lastActivity = performance.now();
  /** performance.now() when the head now being read started arriving. */
  headSince = 0;

  constructor(
    private readonly socket: Socket<ServerConnection>,
    private readonly host: ConnectionHost,
    readonly address: string,
  ) {
    this.writer = new ByteWriter({ write: (data) => (this.closed ? -1 : socket.write(data)) });
    this.parser = new RequestParser({ onHead: (head) => this.onHead(head), onBody: (bytes) => this.onBody(bytes) }, host.limits);
  }

  /** Nothing in progress: no request being read or answered, nothing left to write. */
  get idle(): boolean {
    return this.exchange === null && !this.ending && !this.parser.headStarted && this.writer.idle;
  }

  /** Reading a request's head, or its body, rather than waiting or answering. */
  get readingHead(): boolean {
    return this.exchange === null && this.parser.headStarted;
  }

  get readingBody(): boolean {
    return this.exchange !== null && !this.parser.done;
  }

  /** When the request body last moved: read from the socket, or pulled by the handler while the socket waited for it. */
  get bodyProgress(): number {
    return Math.max(this.lastActivity, this.writer.lastProgress, this.exchange?.inbound?.lastPull ?? 0);
  }

  /** The answer is being written and the client is not taking it. */
  get stalledWriting(): boolean {
    return this.exchange?.answered === true && !this.writer.idle;
  }

  onData(chunk: Uint8Array): void {
    if (this.closed) return;
    this.lastActivity = performance.now();
    // The last answer is going out: the rest of what the client sends is not read (lingering close).
    if (this.ending) return;
    // A request is being answered, or earlier pipelined bytes still wait their turn: keep the order.
    if ((this.exchange !== null && this.parser.done) || this.waiting.length > 0) {
      this.hold(chunk, 0);
      return;
    }
    this.feed(chunk);
  }

  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.socket.pause();
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    this.socket.resume();
  }

  /**
   * The client sent FIN (the socket is half-open): a request read whole is still answered, then the
   * connection ends; a request cut off in its head or body can never complete, so it is dropped.
   */
  onEnd(): void {
    if (this.closed) return;
    if (this.exchange !== null && this.parser.done) this.exchange.keepAlive = false;
    else if (this.idle && this.waiting.length === 0) this.endAfterWrites();
    else if (!this.ending) this.destroy();
  }

  /** Closes an idle connection (server stopping, idle timeout). */
  closeIfIdle(): void {
    if (this.idle) this.destroy();
  }

  /** A timeout: answered with `status` when nothing has been answered yet, else dropped. */
  expire(status: number, why: string): void {
    if (this.exchange?.answered !== true) this.refuse(new ParseError(why, status));
    else this.destroy();
  }

  /** Closes at once; reported synchronously. */
  destroy(): void {
    if (this.closed) return;
    this.socket.terminate();
    this.handleClose();
  }

  /** The socket closed (either side): stops everything in progress, once. */
  handleClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.close();
    const exchange = this.exchange;
    this.exchange = null;
    exchange?.inbound?.error(new Error("client closed the connection"));
    exchange?.stopBody?.(undefined);
    this.host.closed(this);
  }

  private feed(bytes: Uint8Array): void {
    try {
      if (this.exchange === null && !this.parser.headStarted) this.headSince = performance.now();
      const end = this.parser.push(bytes);
      const exchange = this.exchange;
      if (exchange === null) return;
      if (this.parser.done) {
        if (end < bytes.length) this.hold(bytes, end);
        exchange.inbound?.close();
      }
      // The handler runs once the head is read, or for a small body once all of it is.
      if (!exchange.dispatched && (exchange.collected === null || this.parser.done)) this.dispatch(exchange);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.refuse(error);
    }
  }

  private hold(bytes: Uint8Array, from: number): void {
    this.waiting.append(from === 0 ? bytes : bytes.subarray(from));
    // A client that pipelines without reading answers waits on TCP, not on our memory.
    if (this.waiting.length > this.host.limits.maxHeadBytes) this.pause();
  }

  private onHead(head: RequestHead): void {
    const exchange: Exchange = { head, keepAlive: head.keepAlive && !this.host.stopping, collected: null, inbound: null, dispatched: false, answered: false, stopBody: null };
    this.exchange = exchange;
    const framing = head.framing;
    if (framing.kind === "none") return;
    if (head.expectContinue) this.writer.write(CONTINUE);
    if (framing.kind === "length" && framing.length <= this.host.limits.bufferBodyBytes) {
      exchange.collected = [];
      return;
    }
    exchange.inbound = new InboundBody(this, () => {
      // The handler does not want the rest: the connection cannot be reused unless it is read and thrown away.
      exchange.keepAlive = false;
    });
  }

  private onBody(bytes: Uint8Array): void {
    const exchange = this.exchange!;
    if (exchange.collected !== null) exchange.collected.push(bytes);
    else exchange.inbound?.push(bytes);
  }

  private dispatch(exchange: Exchange): void {
    exchange.dispatched = true;
    const { head, collected } = exchange;
    const bytes = collected === null ? undefined : collected.length === 1 ? collected[0]! : new Uint8Array(Buffer.concat(collected));
    exchange.collected = null;
    const body = exchange.inbound?.stream ?? null;
    const request: IncomingRequest = { method: head.method, target: head.target, minor: head.minor, headers: head.headers, host: head.host, address: this.address, bytes, body };
    let answer: OutgoingResponse | Promise<OutgoingResponse>;
    try {
      answer = this.host.handler(request);
    } catch (error) {
      this.host.onError(error, request);
      answer = INTERNAL_ERROR;
    }
    if (answer instanceof Promise) {
      answer.then(
        (response) => this.respond(exchange, response),
        (error: unknown) => {
          this.host.onError(error, request);
          this.respond(exchange, INTERNAL_ERROR);
        },
      );
    } else {
      this.respond(exchange, answer);
    }
  }

  private respond(exchange: Exchange, response: OutgoingResponse): void {
    const body = response.body ?? null;
    if (this.exchange !== exchange || exchange.answered) {
      // The client left (or a timeout answered first): nobody reads this.
      if (body instanceof ReadableStream) body.cancel().catch(() => {});
      return;
    }
    const { head } = exchange;
    const status = response.status;
    const headers = response.headers ?? [];
    const noBody = head.method === "HEAD" || bodiless(status);
    let framing: ResponseFraming;
    let bytes: Uint8Array | null = null;
    let announcedLength: number | undefined;
    if (body instanceof ReadableStream) {
      const declared = declaredLength(headers);
      if (noBody) {
        body.cancel().catch(() => {});
        framing = { kind: "none" };
        announcedLength = bodiless(status) ? undefined : declared;
      } else if (declared !== undefined) framing = { kind: "length", length: declared };
      else if (head.minor === 1) framing = { kind: "chunked" };
      else {
        framing = { kind: "close" };
        exchange.keepAlive = false;
      }
    } else {
      bytes = typeof body === "string" ? Buffer.from(body) : body;
      const length = bytes?.length ?? 0;
      if (noBody) {
        framing = { kind: "none" };
        announcedLength = bodiless(status) ? undefined : bytes !== null ? length : declaredLength(headers);
        bytes = null;
      } else framing = { kind: "length", length };
    }
    // Answered before the request body was all read: what follows on the connection is not a request.
    if (!this.parser.done || this.host.stopping) exchange.keepAlive = false;
    let text: string;
    try {
      text = renderResponseHead({ status, headers, framing, announcedLength, keepAlive: exchange.keepAlive, minor: head.minor });
    } catch (error) {
      if (!(error instanceof InvalidResponse)) throw error;
      if (body instanceof ReadableStream) body.cancel().catch(() => {});
      this.respond(exchange, { status: 502, headers: JSON_TYPE, body: JSON.stringify({ message: `<Error> ${error.message}`, status: "failure" }) });
      return;
    }
    exchange.answered = true;
    this.lastActivity = performance.now();
    if (bytes !== null && bytes.length > 0 && bytes.length <= ONE_WRITE_BYTES) {
      const out = Buffer.allocUnsafe(text.length + bytes.length);
      out.write(text, 0, "latin1");
      out.set(bytes, text.length);
      this.writer.write(out);
      this.answered(exchange);
      return;
    }
    this.writer.write(Buffer.from(text, "latin1"));
    if (bytes !== null && bytes.length > 0) {
      this.writer.drained().then((ok) => ok && (this.writer.write(bytes) || true) && this.answered(exchange));
      return;
    }
    if (!(body instanceof ReadableStream) || framing.kind === "none") {
      this.answered(exchange);
      return;
    }
    exchange.stopBody = pumpStream(this.writer, body, { chunked: framing.kind === "chunked", declared: framing.kind === "length" ? framing.length : -1 }, {
      done: () => this.answered(exchange),
      abandoned: () => this.destroy(),
      // The answer is cut short: closing is the only way left to tell the client.
      failed: () => this.destroy(),
    });
  }

  /** The answer has been handed to the writer: the next request, or the end of the connection. */
  private answered(exchange: Exchange): void {
    if (this.exchange !== exchange) return;
    exchange.stopBody = null;
    if (!exchange.keepAlive) {
      this.exchange = null;
      // Answered before the request body ended: whoever still reads that body learns it will not end.
      if (!this.parser.done) exchange.inbound?.error(new Error("the request was answered before its body ended"));
      this.endAfterWrites();
      return;
    }
    this.exchange = null;
    this.parser.reset();
    this.lastActivity = performance.now();
    if (this.waiting.length === 0) return;
    // Pipelined bytes: the next answer starts only once this one left, so the client reads them in order.
    void this.writer.drained().then((ok) => {
      if (!ok || this.closed) return;
      const next = this.waiting.view().slice();
      this.waiting.clear();
      this.resume();
      this.feed(next);
    });
  }

  /** Ends the connection once what was written has left: FIN, so the client reads everything before it. */
  private endAfterWrites(): void {
    this.ending = true;
    void this.writer.drained().then(() => {
      if (!this.closed) this.socket.end();
    });
  }

  /** Answers a request that cannot be read (or a timeout) and closes the connection. */
  private refuse(error: ParseError): void {
    const exchange = this.exchange;
    if (exchange !== null) {
      exchange.inbound?.error(error);
      if (exchange.answered) {
        this.destroy();
        return;
      }
      // Whatever the handler answers later is dropped: this is the answer.
      exchange.answered = true;
    }
    this.exchange = null;
    this.pause();
    const body = JSON.stringify({ message: `<Error> ${error.message}`, status: "failure" });
    const text = renderResponseHead({ status: error.status, headers: JSON_TYPE, framing: { kind: "length", length: body.length }, keepAlive: false, minor: 1 });
    // The message quotes the request, which was read as latin1: one byte per character both ways.
    this.writer.write(Buffer.from(text + body, "latin1"));
    this.endAfterWrites();
  }
}

const JSON_TYPE: ReadonlyArray<readonly [string, string]> = [["Content-Type", "application/json"]];
const INTERNAL_ERROR: OutgoingResponse = { status: 500, headers: JSON_TYPE, body: JSON.stringify({ message: "<Error> internal error", status: "failure" }) };

/** A stream body's length as its handler declared it (a valid Content-Length header), if any. */
function declaredLength(headers: ReadonlyArray<readonly [string, string]>): number | undefined {
  for (const [name, value] of headers) {
    if (name.length === 14 && name.toLowerCase() === "content-length") {
      const digits = value.trim();
      return /^[0-9]{1,15}$/.test(digits) ? Number(digits) : undefined;
    }
  }
  return undefined;
}
