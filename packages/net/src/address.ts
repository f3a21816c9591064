import { NetError } from "./errors.ts";

/** Every address is a URI: `unix:/path/to.sock` or `tcp://host:port` (DESIGN §1). */
export type Address = { kind: "unix"; path: string } | { kind: "tcp"; host: string; port: number };

export function parseAddress(uri: string): Address {
  if (uri.startsWith("unix:")) {
    const path = uri.slice("unix:".length).replace(/^\/\/(?=\/)/, "");
    if (path.length === 0) throw new NetError("bad_address", `"${uri}" has no socket path (expected unix:/path/to.sock)`);
    // sun_path is 108 bytes on Linux, including the terminating NUL.
    if (Buffer.byteLength(path) > 107) throw new NetError("bad_address", `socket path "${path}" is longer than 107 bytes`);
    return { kind: "unix", path };
  }
  // Brackets belong to IPv6 literals only: "[]" and "[zz]" must not pass as the bare hosts "" and "zz".
  const tcp = /^tcp:\/\/(\[[0-9a-fA-F:.]+\]|[^:/\s[\]]+):(\d{1,5})\/?$/.exec(uri);
  if (tcp) {
    const port = Number(tcp[2]);
    if (port < 1 || port > 65535) throw new NetError("bad_address", `port ${port} in "${uri}" is not between 1 and 65535`);
    return { kind: "tcp", host: tcp[1]!.replace(/^\[|\]$/g, ""), port };
  }
  throw new NetError("bad_address", `"${uri}" is not an address (expected unix:/path/to.sock or tcp://host:port)`);
}

export function formatAddress(address: Address): string {
  if (address.kind === "unix") return `unix:${address.path}`;
  return `tcp://${address.host.includes(":") ? `[${address.host}]` : address.host}:${address.port}`;
}
