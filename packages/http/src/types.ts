export interface OriginOptions {
  /** "http://127.0.0.1:8080" or "unix:/path/app.sock": an origin only (no path, query or https). */
  url: string;
  /** Connections open at once (default 256); beyond that requests wait, within their timeout. */
  maxConnections?: number;
  /** Idle keep-alive connections kept for reuse (default 64). */
  maxIdle?: number;
  /** An idle pooled connection is closed after this long (default 15000). */
  idleTimeoutMs?: number;
  /** Default 2000. */
  connectTimeoutMs?: number;
}

export interface UpstreamRequest {
  method: string;
  /** Path and query as received ("/a/b?x=1"). */
  target: string;
  /** Already filtered by the caller; the client adds Host if missing, and the framing headers itself. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array | ReadableStream<Uint8Array> | null;
  /** The budget until the response head has arrived (waiting for a connection included; time spent streaming the request body excluded). */
  timeoutMs: number;
  /** After that, a body (either direction) that makes no progress this long is aborted (default 30000). */
  bodyIdleTimeoutMs?: number;
}

export interface UpstreamResponse {
  status: number;
  reason: string;
  /** As received, in order, names lower-cased; framing headers (transfer-encoding, content-length) as the upstream sent them. */
  headers: Array<[string, string]>;
  /** Decoded (de-chunked) bytes; null when there is no body (HEAD, 1xx, 204, 304). With `bytes`, a stream of those, made when read. */
  body: ReadableStream<Uint8Array> | null;
  /**
   * The whole body, when its Content-Length was at most SMALL_BODY: read before the promise
   * resolved, which spares a stream per answer (most answers are small). Read it instead of `body`.
   */
  bytes?: Uint8Array;
  /** When the upstream said so. */
  contentLength: number | undefined;
}
