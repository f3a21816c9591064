import { type Address, parseAddress } from "@switchyard/net";
import { type LogOptions, resolveLogOptions } from "./common-args.ts";
import { parseAddressFlag, parseMillis, parseUpstreamList, type NumberedAddress } from "./values.ts";

/** What the load balancer and a reverse proxy are configured with alike. */
export interface HopConfig extends LogOptions {
  listen: Address;
  /** The next tier, numbered as in the logs. */
  upstreams: NumberedAddress[];
  /** Budget of a request that arrives without one. */
  timeoutMs: number;
  /** The watchdog's control socket, when started by one. */
  control: Address | undefined;
}

export interface HopArgs {
  listen?: string;
  upstreams?: string;
  "timeout-ms"?: string;
  control?: string;
  "log-level"?: string;
  "log-format"?: string;
}

/** Flags over defaults: `defaultListen` is the fleet's socket for this member. */
export function resolveHopConfig(args: HopArgs, defaultListen: string, defaultTimeoutMs: number): HopConfig {
  return {
    listen: args.listen ? parseAddressFlag("--listen", args.listen) : parseAddress(defaultListen),
    upstreams: parseUpstreamList("--upstreams", args.upstreams),
    timeoutMs: args["timeout-ms"] === undefined ? defaultTimeoutMs : Math.max(1, parseMillis("--timeout-ms", args["timeout-ms"])),
    control: args.control ? parseAddressFlag("--control", args.control) : undefined,
    ...resolveLogOptions(args),
  };
}
