import { type Address, parseAddress } from "@switchyard/net";
import {
  CliError,
  type LogOptions,
  type NumberedAddress,
  fleetSocket,
  parseAddressFlag,
  parseInteger,
  parseMillis,
  parseUpstreamList,
  resolveLogOptions,
  resolveRunDir,
} from "@switchyard/cli";

export interface ProxyConfig extends LogOptions {
  /** "Reverse Proxy #N". */
  id: number;
  listen: Address;
  /** This proxy's servers, numbered globally (Server #4 … #6 under Reverse Proxy #2). */
  upstreams: NumberedAddress[];
  /** Budget of a request that arrives without one. */
  timeoutMs: number;
  control: Address | undefined;
}

export interface ProxyArgs {
  id?: string;
  listen?: string;
  upstreams?: string;
  "timeout-ms"?: string;
  control?: string;
  "run-dir"?: string;
  "log-level"?: string;
  "log-format"?: string;
}

export function resolveProxyConfig(args: ProxyArgs): ProxyConfig {
  if (args.id === undefined) throw new CliError("--id is required (the proxy's number, e.g. --id 1)");
  const id = parseInteger("--id", args.id, 1, 0xffff_ffff);
  return {
    id,
    listen: args.listen ? parseAddressFlag("--listen", args.listen) : parseAddress(fleetSocket.proxy(resolveRunDir(args["run-dir"]), id)),
    upstreams: parseUpstreamList("--upstreams", args.upstreams),
    timeoutMs: args["timeout-ms"] === undefined ? 5000 : Math.max(1, parseMillis("--timeout-ms", args["timeout-ms"])),
    control: args.control ? parseAddressFlag("--control", args.control) : undefined,
    ...resolveLogOptions(args),
  };
}
