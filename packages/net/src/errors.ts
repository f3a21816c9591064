/** Why a request or connection failed. Retryable codes say the request never reached a handler or may be redone. */
export type NetErrorCode =
  | "bad_address" // an address that is not unix:/path or tcp://host:port
  | "address_in_use" // another live process listens there
  | "unavailable" // not connected (down, backing off, or draining)
  | "connection_lost" // the connection closed with the request in flight
  | "timeout" // the deadline passed
  | "closed" // the peer object was closed by its owner
  | "aborted" // a streamed body broke off: its source failed, it was cancelled, or the other side broke the flow-control rules
  | "remote"; // the other side answered with an error frame: see `remoteCode`

export class NetError extends Error {
  override readonly name = "NetError";
  constructor(
    readonly code: NetErrorCode,
    message: string,
    /** For code "remote": the error code the peer sent (bad_request, rate_limited, …). */
    readonly remoteCode?: string,
  ) {
    super(message);
  }

  /** The request can be sent elsewhere: it failed on the way, not in a handler that said no. */
  get retryable(): boolean {
    return this.code === "unavailable" || this.code === "connection_lost" || this.code === "timeout" ||
      (this.code === "remote" && (this.remoteCode === "unavailable" || this.remoteCode === "shutting_down" || this.remoteCode === "overloaded"));
  }
}

/** An error a request handler throws to answer with a specific wire error code. */
export class RequestError extends Error {
  override readonly name = "RequestError";
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
