export { DEFAULT_MAX_FRAME, HEADER_BYTES, decodeBody, encodeBody, encodeFrame } from "./codec.ts";
export { WireError, type WireErrorCode } from "./errors.ts";
export { FrameReader, type FrameReaderOptions } from "./frame-reader.ts";
export * from "./messages.ts";
