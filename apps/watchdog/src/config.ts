import { dirname } from "node:path";
import { type LogOptions, type Tuning, type TuningArgs, checkPolicy, parseInteger, parseMillis, resolveLogOptions, resolveRunDir, resolveTuning } from "@switchyard/cli";

export interface WatchdogConfig extends LogOptions, Tuning {
  /** Reverse proxies (seed: 2). */
  proxies: number;
  /** Servers under each proxy (seed: 3). */
  servers: number;
  runDir: string;
  /** Where the other four binaries are. */
  binDir: string;
  /** Passed to every server. */
  workMs: number;
  /** A child that has not reported ready by then is killed and restarted. */
  readyTimeoutMs: number;
  /** How long a child may drain after SIGTERM before SIGKILL. */
  stopTimeoutMs: number;
  /** Passed to the load balancer and to every proxy as --policy. */
  lbPolicy: string;
  proxyPolicy: string;
}

export interface WatchdogArgs extends TuningArgs {
  "lb-policy"?: string;
  "proxy-policy"?: string;
  proxies?: string;
  servers?: string;
  "run-dir"?: string;
  "bin-dir"?: string;
  "work-ms"?: string;
  "ready-timeout-ms"?: string;
  "stop-timeout-ms"?: string;
  "log-level"?: string;
  "log-format"?: string;
}

/** A compiled binary runs from /$bunfs/; its siblings are next to the executable. From source, the working directory. */
export function defaultBinDir(): string {
  return Bun.main.startsWith("/$bunfs/") ? dirname(process.execPath) : process.cwd();
}

export function resolveWatchdogConfig(args: WatchdogArgs): WatchdogConfig {
  return {
    proxies: args.proxies === undefined ? 2 : parseInteger("--proxies", args.proxies, 1, 64),
    servers: args.servers === undefined ? 3 : parseInteger("--servers", args.servers, 1, 256),
    runDir: resolveRunDir(args["run-dir"]),
    binDir: args["bin-dir"] ?? defaultBinDir(),
    workMs: args["work-ms"] === undefined ? 0 : parseMillis("--work-ms", args["work-ms"]),
    readyTimeoutMs: args["ready-timeout-ms"] === undefined ? 10_000 : Math.max(100, parseMillis("--ready-timeout-ms", args["ready-timeout-ms"])),
    stopTimeoutMs: args["stop-timeout-ms"] === undefined ? 5000 : Math.max(100, parseMillis("--stop-timeout-ms", args["stop-timeout-ms"])),
    lbPolicy: checkPolicy("--lb-policy", args["lb-policy"] ?? "client-id"),
    proxyPolicy: checkPolicy("--proxy-policy", args["proxy-policy"] ?? "random"),
    ...resolveTuning(args),
    ...resolveLogOptions(args),
  };
}
