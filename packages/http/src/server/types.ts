export type HeaderList = ReadonlyArray<readonly [string, string]>;

/** A request the server has read the head of (and, when small, the body). */
export interface IncomingRequest {
  readonly method: string;
  /** Origin-form, "/path?query" (an absolute-form target reduced to it), or "*" for OPTIONS. */
  readonly target: string;
  /** The minor HTTP version: 0 or 1. */
  readonly minor: number;
  /** As received, in order, names lower-cased (framing headers included). */
  readonly headers: Array<[string, string]>;
  /** The Host the client asked for (the authority of an absolute-form target wins). */
  readonly host: string | undefined;
  /** The client's IP address. */
  readonly address: string;
  /** The whole body, when its Content-Length was at most `bufferBodyBytes` (read before the handler ran). */
  readonly bytes?: Uint8Array;
  /** The body as it arrives (larger or chunked bodies), with backpressure; null without one or with `bytes`. */
  readonly body: ReadableStream<Uint8Array> | null;
}

/** What a handler answers. The server frames it: Content-Length, chunked, or close-delimited for HTTP/1.0. */
export interface OutgoingResponse {
  status: number;
  /**
   * Names in any case. Connection-level headers are dropped; a Content-Length is kept only as the
   * length of a stream body (or of a HEAD answer), every other body's is computed.
   */
  headers?: HeaderList;
  body?: Uint8Array | string | ReadableStream<Uint8Array> | null;
}

export type HttpHandler = (request: IncomingRequest) => OutgoingResponse | Promise<OutgoingResponse>;

export interface HttpServerLimits {
  /** Request line and fields: a larger head is answered 431 (default 64 KiB). */
  maxHeadBytes: number;
  /** A larger request body is answered 413 (default: no limit; a proxy streams them). */
  maxBodyBytes: number;
  /** Bodies of known length up to this are read whole before the handler runs (default 64 KiB). */
  bufferBodyBytes: number;
  /** A request head must arrive within this once it started: else 408 and close (default 10000). */
  headerTimeoutMs: number;
  /** An idle keep-alive connection (or a new one that sends nothing) is closed after this (default 60000). */
  idleTimeoutMs: number;
  /** A request body that makes no progress this long, or a client that does not read its answer: closed (default 30000). */
  bodyTimeoutMs: number;
  /** Connections open at once; one more is answered 503 and closed (default: no limit). */
  maxConnections: number;
}

/** PEM text of a certificate (chain) and its private key. */
export interface TlsFiles {
  cert: string;
  key: string;
}

export interface ServeOptions {
  host: string;
  /** 0 asks the kernel for a free port; `HttpServer.port` tells which. */
  port: number;
  handler: HttpHandler;
  /** Speak HTTPS (TLS terminated here, by Bun's native TLS). */
  tls?: TlsFiles;
  limits?: Partial<HttpServerLimits>;
  /** A handler that threw or rejected: the client got a 500. */
  onError?(error: unknown, request: IncomingRequest): void;
  /** Whether a client address may connect at all; one that may not is answered 403 and closed. Default: all may. */
  admit?(address: string): boolean;
  /** A connection was answered and closed on sight: 503 over `maxConnections`, 403 for an address `admit` refused. */
  onRefused?(why: "connections" | "address", address: string): void;
}

export interface HttpServer {
  readonly port: number;
  /** Connections open now. */
  readonly connections: number;
  /**
   * Serves new connections with another certificate: a new listener on the same port (SO_REUSEPORT)
   * takes over accepting, connections already open keep theirs. Throws if the certificate is bad,
   * and the old one stays in use.
   */
  reloadTls(tls: TlsFiles): void;
  /**
   * Stops accepting; idle connections close now, busy ones after their answer (with
   * `Connection: close`); whatever is still open after `graceMs` is closed.
   */
  stop(graceMs?: number): Promise<void>;
}
