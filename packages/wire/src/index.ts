export { DEFAULT_MAX_FRAME, type DecodeOptions, HEADER_BYTES, decodeBody, decodeValue, encodeBody, preEncode, encodeFrame } from "./codec.ts";
export { FrameBuffer } from "./frame-buffer.ts";
export { RawBody } from "./raw-body.ts";
export { WireError, type WireErrorCode } from "./errors.ts";
export { FrameReader, type FrameReaderOptions } from "./frame-reader.ts";
export * from "./messages.ts";
export { type FleetEvent, type FleetStatus, HOP_STATS_OP, type HopStats, type ProcessStatus, type Role, type UpstreamStats } from "./fleet-status.ts";
