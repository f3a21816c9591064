import type { ConnectionUser, HttpConnection } from "./connection.ts";
import { HttpClientError, type HttpClientErrorCode } from "./errors.ts";
import { ParseError, type ResponseHead } from "./head-parser.ts";
import type { PreparedRequest } from "./request-head.ts";
import { InboundBody } from "./inbound-body.ts";

/** Bodies of known length up to this are read whole before the response resolves (UpstreamResponse.bytes). */
export const SMALL_BODY = 64 * 1024;
import { ResponseParser } from "./response-parser.ts";
import type { UpstreamResponse } from "./types.ts";
import { uploadBody } from "./upload.ts";

export interface ExchangeOptions {
  /** Names the origin in error messages. */
  label: string;
  /** performance.now() by which the response head must have arrived (time spent uploading excluded). */
  deadline: number;
  timeoutMs: number;
  bodyIdleTimeoutMs: number;
  /** Called once, when the exchange is over: the connection may carry another request when `reusable`. */
  onFinish(reusable: boolean): void;
}

/**
 * One request and its response on one connection: writes the request, parses the response,
 * streams the body both ways, and enforces the head and body-idle timeouts. Ends in exactly one
 * `onFinish`, reusable only when both messages completed cleanly on a keep-alive connection.
 */
export class Exchange implements ConnectionUser {
  readonly response: Promise<UpstreamResponse>;
  private resolve!: (response: UpstreamResponse) => void;
  private reject!: (error: unknown) => void;
  private readonly parser: ResponseParser;
  private readonly writtenBefore: number;
  private head: ResponseHead | null = null;
  private body: InboundBody | null = null;
  /** The chunks of a small body of known length, collected before the response is resolved. */
  private small: Uint8Array[] | null = null;
  private uploadDone = false;
  /** The request body was not sent in full (the response ended first, or the socket broke). */
  private uploadAbandoned = false;
  private responseDone = false;
  /** Bytes came after the response: the upstream does not frame like we do; never reuse. */
  private trailingGarbage = false;
  private finished = false;
  private headTimer: Timer | null = null;
  /** The head timeout's budget (ms), fixed when the exchange starts: upload time does not count against it. */
  private headBudget = 0;
  private idleTimer: Timer | null = null;
  private lastRead = 0;
  private cancelUpload: ((reason: unknown) => void) | null = null;

  constructor(
    private readonly conn: HttpConnection,
    private readonly request: PreparedRequest,
    private readonly options: ExchangeOptions,
  ) {
    this.response = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.writtenBefore = conn.writer.written;
    this.parser = new ResponseParser(
      { onHead: (head) => this.onHead(head), onBody: (bytes) => (this.small ? this.small.push(bytes) : this.body?.push(bytes)) },
      request.method,
    );
  }

  /** Any byte of the request has been written. */
  get sent(): boolean {
    return this.conn.writer.written > this.writtenBefore;
  }

  /** Any byte of the response (an interim head, too) has arrived. */
  get responseStarted(): boolean {
    return this.parser.started;
  }

  start(): void {
    this.conn.uses++;
    if (this.conn.closed) {
      // Closed between being handed out and now (its close event came first): nothing was sent.
      this.fail("reset", "connection closed before the request was sent");
      return;
    }
    this.conn.user = this;
    this.headBudget = this.options.deadline - performance.now();
    if (this.headBudget <= 0) {
      this.fail("timeout", `no response head within ${this.options.timeoutMs} ms`);
      return;
    }
    const writer = this.conn.writer;
    writer.write(this.request.first);
    if (this.request.rest === null) {
      // Head and small body are queued for the end of this turn: from here on it is the upstream's move.
      this.uploadDone = true;
      this.armHeadTimer();
      return;
    }
    // A large or streamed body: its pace is the body idle timeout's business, not the head's.
    this.watchIdle();
    this.cancelUpload = uploadBody(writer, this.request, {
      done: () => this.onUploadDone(),
      abandoned: () => this.onUploadAbandoned(),
      failed: (code, why, cause) => this.failWith(new HttpClientError(code, `${this.options.label}: ${why}`, this.sent, { cause })),
    });
  }

  onData(chunk: Uint8Array): void {
    if (this.finished) return;
    let extra: number;
    try {
      extra = this.parser.push(chunk);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      this.fail("protocol", `invalid response: ${error.message}`);
      return;
    }
    this.lastRead = performance.now();
    if (extra > 0) this.trailingGarbage = true;
    if (this.parser.done) {
      if (!this.responseDone) this.onResponseDone();
    } else if (this.head !== null) {
      this.watchIdle();
    }
  }

  onClosed(reason: string): void {
    if (this.finished) return;
    if (this.parser.eof()) {
      this.onResponseDone();
      return;
    }
    const what = this.head === null ? "before the response head arrived" : "before the response body ended";
    this.fail("reset", `connection closed ${what} (${reason})`);
  }

  /** Ends the exchange with `code` (the Origin was closed, …); the connection is dropped. */
  fail(code: HttpClientErrorCode, why: string): void {
    this.failWith(new HttpClientError(code, `${this.options.label}: ${why}`, this.sent));
  }

  private failWith(error: HttpClientError): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimers();
    // Not resolved yet: no head, or a small body still being collected.
    if (this.head === null || this.small !== null) this.reject(error);
    else this.body?.error(error);
    this.cancelUpload?.(error);
    this.conn.user = null;
    this.conn.destroy(error.message);
    this.options.onFinish(false);
  }

  private onHead(head: ResponseHead): void {
    this.head = head;
    if (head.framing.kind === "length" && head.framing.length <= SMALL_BODY) {
      // Read whole, then resolved with `bytes`; the rest is usually in the same read. Until then
      // the response is not there yet, so the head timeout still runs.
      this.small = [];
      if (head.framing.length === 0) this.resolveSmall();
      return;
    }
    this.clearHeadTimer();
    const framed = head.framing.kind !== "none";
    // The body idle watch starts in onData, only if the body did not arrive with the head (usual for small ones).
    if (framed) this.body = new InboundBody(this.conn, () => this.onBodyCancelled());
    this.resolve({
      status: head.status,
      reason: head.reason,
      headers: head.headers,
      body: this.body?.stream ?? null,
      contentLength: head.contentLength,
    });
  }

  private resolveSmall(): void {
    this.clearHeadTimer();
    const head = this.head!;
    const chunks = this.small ?? [];
    this.small = null;
    const bytes = chunks.length === 1 ? chunks[0]! : new Uint8Array(Buffer.concat(chunks));
    let stream: ReadableStream<Uint8Array> | null = null;
    this.resolve({
      status: head.status,
      reason: head.reason,
      headers: head.headers,
      bytes,
      // For a reader that wants a stream all the same: made only if asked for.
      get body() {
        stream ??= new Response(bytes).body;
        return stream;
      },
      contentLength: head.contentLength,
    });
  }

  private onResponseDone(): void {
    this.responseDone = true;
    if (this.small) this.resolveSmall();
    this.body?.close();
    // The last chunk may have paused reading; an idle pooled socket must see the upstream's FIN.
    this.conn.resume();
    if (!this.uploadDone) {
      // The upstream answered without reading everything: the request cannot be completed.
      this.uploadAbandoned = true;
      this.uploadDone = true;
      this.cancelUpload?.(undefined);
    }
    this.finish();
  }

  private onUploadDone(): void {
    this.uploadDone = true;
    this.awaitHead();
    if (this.responseDone) this.finish();
  }

  /** The socket broke while uploading: what the upstream said before that may still arrive. */
  private onUploadAbandoned(): void {
    this.uploadAbandoned = true;
    this.uploadDone = true;
    this.awaitHead();
    if (this.responseDone) this.finish();
  }

  /** Between the end of the upload and the head, only the head timeout applies (the upstream is thinking). */
  private awaitHead(): void {
    if (this.head !== null) return;
    this.clearIdleTimer();
    this.armHeadTimer();
  }

  private onBodyCancelled(): void {
    if (this.finished) return;
    if (this.responseDone) return;
    // The rest of the body would have to be read and thrown away; closing is cheaper and bounded.
    this.finished = true;
    this.clearTimers();
    this.cancelUpload?.(undefined);
    this.conn.user = null;
    this.conn.destroy("response body cancelled");
    this.options.onFinish(false);
  }

  private finish(): void {
    if (this.finished || !this.uploadDone) return;
    this.finished = true;
    this.clearTimers();
    this.conn.user = null;
    const reusable = this.head !== null && this.head.keepAlive && !this.request.closeAfter && !this.uploadAbandoned && !this.trailingGarbage && this.conn.writer.idle && !this.conn.closed;
    if (!reusable) this.conn.destroy("not reusable");
    this.options.onFinish(reusable);
  }

  private armHeadTimer(): void {
    this.headTimer = setTimeout(() => {
      this.headTimer = null;
      this.fail("timeout", this.head === null ? `no response head within ${this.options.timeoutMs} ms` : `no complete response within ${this.options.timeoutMs} ms`);
    }, this.headBudget);
  }

  private clearHeadTimer(): void {
    if (this.headTimer === null) return;
    clearTimeout(this.headTimer);
    this.headTimer = null;
  }

  /** Fails the exchange once neither direction moved for bodyIdleTimeoutMs (one timer, re-armed lazily). */
  private watchIdle(): void {
    if (this.idleTimer !== null) return;
    const limit = this.options.bodyIdleTimeoutMs;
    this.lastRead = performance.now();
    const check = () => {
      const last = Math.max(this.lastRead, this.conn.writer.lastProgress, this.body?.lastPull ?? 0);
      const idle = performance.now() - last;
      if (idle >= limit) {
        this.idleTimer = null;
        this.fail("timeout", `body made no progress for ${limit} ms`);
      } else {
        this.idleTimer = setTimeout(check, limit - idle);
      }
    };
    this.idleTimer = setTimeout(check, limit);
  }

  private clearIdleTimer(): void {
    if (this.idleTimer === null) return;
    clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  private clearTimers(): void {
    this.clearHeadTimer();
    this.clearIdleTimer();
  }
}
