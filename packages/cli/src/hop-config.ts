import type { ArgsDef } from "citty";
import { type Address, parseAddress } from "@switchyard/net";
import { DEFAULT_HEALTH, type HealthOptions, POLICIES, UpstreamError, createPolicy } from "@switchyard/upstream";
import { type LogOptions, resolveLogOptions } from "./common-args.ts";
import { CliError } from "./errors.ts";
import { parseAddressFlag, parseInteger, parseMillis, parseUpstreamList, type NumberedAddress } from "./values.ts";

/** What the load balancer and a reverse proxy are configured with alike. */
export interface HopConfig extends LogOptions {
  listen: Address;
  /** The next tier, numbered as in the logs. */
  upstreams: NumberedAddress[];
  /** Budget of a request that arrives without one. */
  timeoutMs: number;
  /** The watchdog's control socket, when started by one. */
  control: Address | undefined;
  /** How the next tier is chosen: `name` or `name:key=value,…` (checked). */
  policy: string;
  health: HealthOptions;
}

/** The health-check flags of the load balancer and the proxies (the watchdog takes them too and passes them on). */
export const healthArgs = {
  "health-interval": { type: "string", valueHint: "ms", description: `Between active health checks; 0 turns them off (default ${DEFAULT_HEALTH.intervalMs})` },
  "health-timeout": { type: "string", valueHint: "ms", description: `A health check not answered within this fails (default ${DEFAULT_HEALTH.timeoutMs})` },
  "health-rise": { type: "string", valueHint: "n", description: `Passed checks that bring an upstream back (default ${DEFAULT_HEALTH.rise})` },
  "health-fall": { type: "string", valueHint: "n", description: `Failed checks that take an upstream out (default ${DEFAULT_HEALTH.fall})` },
  "health-every": { type: "string", valueHint: "n", description: "Also check after every N requests to an upstream; 0: off (default 0)" },
} satisfies ArgsDef;

/** The names a policy flag accepts, for --help. */
export const POLICY_NAMES = POLICIES.map((p) => p.name).join(", ");

/** The balancing and health-check flags of the load balancer and the proxies. */
export const hopArgs = {
  policy: { type: "string", valueHint: "name[:opt=v,…]", description: `How the next tier is chosen: ${POLICY_NAMES} (see README)` },
  ...healthArgs,
} satisfies ArgsDef;

export type HealthArgs = { [K in keyof typeof healthArgs]?: string };

/** The flags that give a child the same health settings. */
export function healthFlags(health: HealthOptions): string[] {
  return [
    ["--health-interval", health.intervalMs],
    ["--health-timeout", health.timeoutMs],
    ["--health-rise", health.rise],
    ["--health-fall", health.fall],
    ["--health-every", health.every],
  ].flatMap(([flag, value]) => [String(flag), String(value)]);
}

export interface HopArgs extends HealthArgs {
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
    health: resolveHealth(args),
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

export function resolveHealth(args: HealthArgs): HealthOptions {
  const ms = (flag: keyof HealthArgs, fallback: number) => (args[flag] === undefined ? fallback : parseMillis(`--${flag}`, args[flag]));
  const count = (flag: keyof HealthArgs, fallback: number, min: number) => (args[flag] === undefined ? fallback : parseInteger(`--${flag}`, args[flag], min, 1_000_000));
  return {
    intervalMs: ms("health-interval", DEFAULT_HEALTH.intervalMs),
    timeoutMs: Math.max(1, ms("health-timeout", DEFAULT_HEALTH.timeoutMs)),
    rise: count("health-rise", DEFAULT_HEALTH.rise, 1),
    fall: count("health-fall", DEFAULT_HEALTH.fall, 1),
    jitter: DEFAULT_HEALTH.jitter,
    every: count("health-every", DEFAULT_HEALTH.every, 0),
  };
}
