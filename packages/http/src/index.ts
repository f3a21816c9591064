export { HttpClientError, type HttpClientErrorCode } from "./errors.ts";
export { type ForwardedInfo, HOP_BY_HOP, addForwarded, newRequestId, stripHopByHop } from "./headers.ts";
export { type HealthResult, checkHealth, parseLoad } from "./health.ts";
export { Origin } from "./origin.ts";
export type { OriginOptions, UpstreamRequest, UpstreamResponse } from "./types.ts";
export { SMALL_BODY } from "./exchange.ts";
export { DEFAULT_LIMITS, ListenError, serveHttp } from "./server/serve.ts";
export type { HeaderList, HttpHandler, HttpServer, HttpServerLimits, IncomingRequest, OutgoingResponse, ServeOptions, TlsFiles } from "./server/types.ts";
