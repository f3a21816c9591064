import type { ArgsDef } from "citty";
import { type Address, parseAddress } from "@switchyard/net";
import { POLICIES, UpstreamError, createPolicy } from "@switchyard/upstream";
import { type LogOptions, resolveLogOptions } from "./common-args.ts";
import { CliError } from "./errors.ts";
import { type Tuning, type TuningArgs, resolveTuning, tuningArgs } from "./tuning.ts";
import { parseAddressFlag, parseHttpUpstream, parseMillis, parseUpstreamList, type NumberedAddress } from "./values.ts";

/** What the load balancer and a reverse proxy are configured with alike. */
export interface HopConfig extends LogOptions, Tuning {
  /** External HTTP upstreams (seeds/001), "http://host:port", in the order given. */
  external: string[];
  /** The path their active health checks GET (default /healthcheck, as seeds/001). */
  healthPath: string;
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

export const DEFAULT_HEALTH_PATH = "/healthcheck";

/** The balancing, health-check and limit flags of the load balancer and the proxies. */
export const hopArgs = {
  policy: { type: "string", valueHint: "name[:opt=v,…]", description: `How the next tier is chosen: ${POLICY_NAMES} (see README)` },
  upstream: { type: "string", valueHint: "url", description: "An external HTTP upstream, http://host:port; repeat the flag for more. HTTP requests go to these" },
  "health-path": { type: "string", valueHint: "path", description: `What health checks of external upstreams GET (default ${DEFAULT_HEALTH_PATH})` },
  ...tuningArgs,
} satisfies ArgsDef;


export interface HopArgs extends TuningArgs {
  listen?: string;
  upstreams?: string;
  "timeout-ms"?: string;
  control?: string;
  policy?: string;
  upstream?: string;
  "health-path"?: string;
  "log-level"?: string;
  "log-format"?: string;
}

/** Flags over defaults: `defaultListen` is the fleet's socket for this member. */
export function resolveHopConfig(args: HopArgs, defaultListen: string, defaultTimeoutMs: number, defaultPolicy: string): HopConfig {
  const external = args.upstream === undefined ? [] : args.upstream.split(",").map((url) => parseHttpUpstream("--upstream", url));
  if (args.upstreams === undefined && external.length === 0) throw new CliError("--upstreams (wire upstreams as N=ADDRESS pairs) or --upstream (an http:// URL) is required");
  const healthPath = args["health-path"] ?? DEFAULT_HEALTH_PATH;
  if (!/^\/[\x21-\x7e]*$/.test(healthPath)) throw new CliError(`--health-path must be a path starting with /, got "${healthPath}"`);
  return {
    external,
    healthPath,
    policy: checkPolicy("--policy", args.policy ?? defaultPolicy),
    ...resolveTuning(args),
    listen: args.listen ? parseAddressFlag("--listen", args.listen) : parseAddress(defaultListen),
    upstreams: parseUpstreamList("--upstreams", args.upstreams ?? ""),
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
