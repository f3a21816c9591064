import type { ArgsDef } from "citty";
import { type Address, parseAddress } from "@switchyard/net";
import { POLICIES, UpstreamError, createPolicy } from "@switchyard/upstream";
import { type LogOptions, resolveLogOptions } from "./common-args.ts";
import { CliError } from "./errors.ts";
import { type Tuning, type TuningArgs, resolveTuning, tuningArgs } from "./tuning.ts";
import { parseAddressFlag, parseMillis, parseUpstreamList, type NumberedAddress } from "./values.ts";

/** What the load balancer and a reverse proxy are configured with alike. */
export interface HopConfig extends LogOptions, Tuning {
  listen: Address;
  /** The next tier, numbered as in the logs. */
  upstreams: NumberedAddress[];
  /** Budget of a request that arrives without one. */
  timeoutMs: number;
  /** The watchdog's control socket, when started by one. */
  control: Address | undefined;
  /** How the next tier is chosen: `name` or `name:key=value,…` (checked). */
  policy: string;
}

/** The names a policy flag accepts, for --help. */
export const POLICY_NAMES = POLICIES.map((p) => p.name).join(", ");

/** The balancing, health-check and limit flags of the load balancer and the proxies. */
export const hopArgs = {
  policy: { type: "string", valueHint: "name[:opt=v,…]", description: `How the next tier is chosen: ${POLICY_NAMES} (see README)` },
  ...tuningArgs,
} satisfies ArgsDef;

export interface HopArgs extends TuningArgs {
  listen?: string;
  upstreams?: string;
  "timeout-ms"?: string;
  control?: string;
  policy?: string;
  "log-level"?: string;
  "log-format"?: string;
}

/** Flags over defaults: `defaultListen` is the fleet's socket for this member. */
export function resolveHopConfig(args: HopArgs, defaultListen: string, defaultTimeoutMs: number, defaultPolicy: string): HopConfig {
  return {
    policy: checkPolicy("--policy", args.policy ?? defaultPolicy),
    ...resolveTuning(args),
    listen: args.listen ? parseAddressFlag("--listen", args.listen) : parseAddress(defaultListen),
    upstreams: parseUpstreamList("--upstreams", args.upstreams),
    timeoutMs: args["timeout-ms"] === undefined ? defaultTimeoutMs : Math.max(1, parseMillis("--timeout-ms", args["timeout-ms"])),
    control: args.control ? parseAddressFlag("--control", args.control) : undefined,
    ...resolveLogOptions(args),
  };
}

/** The spec if a policy can be made from it, else a CliError naming the flag. */
export function checkPolicy(flag: string, spec: string): string {
  try {
    createPolicy(spec);
    return spec;
  } catch (error) {
    if (error instanceof UpstreamError) throw new CliError(`${flag}: ${error.message}`);
    throw error;
  }
}
