import { Packr } from "msgpackr";
import { WireError } from "./errors.ts";
import { type Message, validateMessage } from "./messages.ts";

/** Default largest frame body: checked on the length prefix, before anything is allocated. */
export const DEFAULT_MAX_FRAME = 1024 * 1024;
/** Bytes of the big-endian length prefix before every frame. */
export const HEADER_BYTES = 4;

// Plain maps only (no records, no extensions beyond the standard), so any MessagePack library can talk to us.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, bundleStrings: false });

/** MessagePack body of one message (no length prefix). */
export function encodeBody(message: Message): Uint8Array {
  return packr.pack(message);
}

/** One complete frame: 4-byte big-endian length, then the MessagePack body. */
export function encodeFrame(message: Message): Uint8Array {
  const body = encodeBody(message);
  const frame = new Uint8Array(HEADER_BYTES + body.length);
  new DataView(frame.buffer).setUint32(0, body.length);
  frame.set(body, HEADER_BYTES);
  return frame;
}

/** Decodes and validates one frame body; throws WireError("bad_frame" | "bad_message"). */
export function decodeBody(body: Uint8Array): Message {
  let value: unknown;
  try {
    value = packr.unpack(body);
  } catch (error) {
    throw new WireError("bad_frame", `frame is not valid MessagePack (${(error as Error).message})`);
  }
  return validateMessage(value);
}
