/** Every failure the wire package reports carries one of these codes. */
export type WireErrorCode =
  | "frame_too_large" // a length prefix above the maximum frame size (fatal for the connection)
  | "bad_frame" // the frame's bytes are not MessagePack
  | "bad_message"; // valid MessagePack that is not a valid Switchyard message

export class WireError extends Error {
  override readonly name = "WireError";
  constructor(
    readonly code: WireErrorCode,
    message: string,
    /** The request id the bad frame carried, when one could be read (so the sender can match the error). */
    readonly requestId = 0,
  ) {
    super(message);
  }
}
