export { type Address, formatAddress, parseAddress } from "./address.ts";
export { type BackoffOptions, createBackoff } from "./backoff.ts";
export { Connection } from "./connection.ts";
export { dial } from "./dial.ts";
export { NetError, type NetErrorCode, RequestError } from "./errors.ts";
export { FrameWriter } from "./frame-writer.ts";
export { type Listener, type ListenerOptions, type RequestHandler, listen } from "./listener.ts";
export { Peer, type PeerOptions, type PeerState } from "./peer.ts";
export { probe } from "./probe.ts";
