import type { ArgsDef } from "citty";
import { DEFAULT_HEALTH, type HealthOptions } from "@switchyard/upstream";
import { parseInteger, parseMillis } from "./values.ts";

/** How a hop treats its upstreams beyond choosing them: health checks and in-flight limits. */
export interface Tuning {
  health: HealthOptions;
  limits: { maxInflight: number; maxQueue: number };
}

/** Default queue in front of upstreams that are all at --max-inflight. */
export const DEFAULT_MAX_QUEUE = 1024;

/** The flags of the load balancer and the proxies that the watchdog also takes and passes on to both. */
export const tuningArgs = {
  "health-interval": { type: "string", valueHint: "ms", description: `Between active health checks; 0 turns them off (default ${DEFAULT_HEALTH.intervalMs})` },
  "health-timeout": { type: "string", valueHint: "ms", description: `A health check not answered within this fails (default ${DEFAULT_HEALTH.timeoutMs})` },
  "health-rise": { type: "string", valueHint: "n", description: `Passed checks that bring an upstream back (default ${DEFAULT_HEALTH.rise})` },
  "health-fall": { type: "string", valueHint: "n", description: `Failed checks that take an upstream out (default ${DEFAULT_HEALTH.fall})` },
  "health-every": { type: "string", valueHint: "n", description: "Also check after every N requests to an upstream; 0: off (default 0)" },
  "max-inflight": { type: "string", valueHint: "n", description: "Requests each upstream may have in flight from this hop; 0: no limit (default 0)" },
  "max-queue": { type: "string", valueHint: "n", description: `Requests that may wait for a free slot before 'overloaded' (default ${DEFAULT_MAX_QUEUE})` },
} satisfies ArgsDef;

export type TuningArgs = { [K in keyof typeof tuningArgs]?: string };

export function resolveTuning(args: TuningArgs): Tuning {
  const ms = (flag: keyof TuningArgs, fallback: number) => (args[flag] === undefined ? fallback : parseMillis(`--${flag}`, args[flag]));
  const count = (flag: keyof TuningArgs, fallback: number, min: number) => (args[flag] === undefined ? fallback : parseInteger(`--${flag}`, args[flag], min, 1_000_000));
  return {
    health: {
      intervalMs: ms("health-interval", DEFAULT_HEALTH.intervalMs),
      timeoutMs: Math.max(1, ms("health-timeout", DEFAULT_HEALTH.timeoutMs)),
      rise: count("health-rise", DEFAULT_HEALTH.rise, 1),
      fall: count("health-fall", DEFAULT_HEALTH.fall, 1),
      jitter: DEFAULT_HEALTH.jitter,
      every: count("health-every", DEFAULT_HEALTH.every, 0),
    },
    limits: { maxInflight: count("max-inflight", 0, 0), maxQueue: count("max-queue", DEFAULT_MAX_QUEUE, 0) },
  };
}

/** The flags that give a child the same settings. */
export function tuningFlags({ health, limits }: Tuning): string[] {
  const pairs: Array<[string, number]> = [
    ["--health-interval", health.intervalMs],
    ["--health-timeout", health.timeoutMs],
    ["--health-rise", health.rise],
    ["--health-fall", health.fall],
    ["--health-every", health.every],
    ["--max-inflight", limits.maxInflight],
    ["--max-queue", limits.maxQueue],
  ];
  return pairs.flatMap(([flag, value]) => [flag, String(value)]);
}
