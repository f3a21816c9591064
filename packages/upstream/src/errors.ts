/** What can go wrong in this package before any request is sent: a policy spec that does not parse. */
export type UpstreamErrorCode = "bad_policy";

export class UpstreamError extends Error {
  constructor(
    readonly code: UpstreamErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "UpstreamError";
  }
}
