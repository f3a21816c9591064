import { type Address, parseAddress } from "@switchyard/net";
import {
  type LogOptions,
  type NumberedAddress,
  fleetSocket,
  parseAddressFlag,
  parseMillis,
  parseUpstreamList,
  resolveLogOptions,
  resolveRunDir,
} from "@switchyard/cli";

export interface BalancerConfig extends LogOptions {
  /** Where clients connect (default <run-dir>/load_balancer.sock, which `./client` finds by itself). */
  listen: Address;
  /** The reverse proxies, numbered as in the logs (Proxy #1, Proxy #2). */
  upstreams: NumberedAddress[];
  /** Budget of a request that arrives without one. */
  timeoutMs: number;
  control: Address | undefined;
}

export interface BalancerArgs {
  listen?: string;
  upstreams?: string;
  "timeout-ms"?: string;
  control?: string;
  "run-dir"?: string;
  "log-level"?: string;
  "log-format"?: string;
}

export function resolveBalancerConfig(args: BalancerArgs): BalancerConfig {
  return {
    listen: args.listen ? parseAddressFlag("--listen", args.listen) : parseAddress(fleetSocket.loadBalancer(resolveRunDir(args["run-dir"]))),
    upstreams: parseUpstreamList("--upstreams", args.upstreams),
    timeoutMs: args["timeout-ms"] === undefined ? 8000 : Math.max(1, parseMillis("--timeout-ms", args["timeout-ms"])),
    control: args.control ? parseAddressFlag("--control", args.control) : undefined,
    ...resolveLogOptions(args),
  };
}
