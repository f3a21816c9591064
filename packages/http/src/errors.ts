/** Why an upstream request failed. */
export type HttpClientErrorCode =
  | "bad_url" // the origin is not http://host[:port] or unix:/path
  | "connect_failed" // no connection could be opened (refused, unreachable, connect timed out)
  | "timeout" // a deadline passed: the response head, a free connection, or a body idle too long
  | "reset" // the connection broke (or the request body failed) before the exchange completed
  | "protocol" // the upstream's bytes are not valid HTTP/1.1, or the request cannot be framed
  | "closed"; // the Origin was closed by its owner

export class HttpClientError extends Error {
  override readonly name = "HttpClientError";
  constructor(
    readonly code: HttpClientErrorCode,
    message: string,
    /** Any byte of the request was written: the upstream may have acted on it. */
    readonly sent = false,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
