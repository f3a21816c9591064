import { dirname, resolve } from "node:path";
import { ADMIN_TOKEN_ENV, type LogOptions, type Tuning, type TuningArgs, CliError, checkPolicy, parseAdminToken, parseHttpKey, parseHttpUpstream, parseInteger, parseMillis, resolveLogOptions, resolveRunDir, resolveTuning } from "@switchyard/cli";
import { MAX_SERVERS } from "./fleet.ts";

export interface WatchdogConfig extends LogOptions, Tuning {
  /** Reverse proxies (seed: 2); 0 is the flat topology of seeds 001/002 (the load balancer routes to the servers). */
  proxies: number;
  /** Servers under each proxy (seed: 3), or in all when flat; 0 is allowed (a fleet of external upstreams, or one grown with /add). */
  servers: number;
  runDir: string;
  /** Where the other four binaries are. */
  binDir: string;
  /** Passed to every server. */
  workMs: number;
  /** A child that has not reported ready by then is killed and restarted; also the bound of /add. */
  readyTimeoutMs: number;
  /** How long a child may drain after SIGTERM before SIGKILL. */
  stopTimeoutMs: number;
  /** Passed to the load balancer and to every proxy as --policy. */
  lbPolicy: string;
  proxyPolicy: string;
  /** The load balancer's HTTP API and proxying (default 127.0.0.1:5000, the seed's port); port null: "off", no HTTP. */
  httpHost: string;
  httpPort: number | null;
  /** Passed to the load balancer: the bearer token its admin API (/add, /rm) requires. Default none. */
  adminToken: string | undefined;
  /** External http:// services (--upstream, repeatable) for the proxies, or the load balancer when flat. Default none. */
  externalUpstreams: string[];
  /** The path their health checks GET (passed on only when set). */
  healthPath: string | undefined;
  /** --timeout-ms for the load balancer and the proxies (the budget of a request that carries none); undefined: theirs. */
  timeoutMs: number | undefined;
  /** --http-key for the load balancer; undefined: its default. */
  httpKey: string | undefined;
  /** --config, made absolute: every child gets it too and reads its own table (the flags the watchdog passes win). */
  configFile?: string;
  /** --data-dir for every server (their reservations); undefined: theirs ($SWITCHYARD_DATA_DIR, else ~/.local/state/switchyard). */
  dataDir?: string;
  /** --no-rooms: the servers run without the room reservation service. */
  rooms: boolean;
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
  "http-host"?: string;
  "http-port"?: string;
  "admin-token"?: string;
  /** Every --upstream given, joined by commas (runCli's `repeatable`). */
  upstream?: string;
  "health-path"?: string;
  "timeout-ms"?: string;
  "http-key"?: string;
  "log-level"?: string;
  "log-format"?: string;
  config?: string;
  "data-dir"?: string;
  rooms?: boolean;
}

/** A compiled binary runs from /$bunfs/; its siblings are next to the executable. From source, the working directory. */
export function defaultBinDir(): string {
  return Bun.main.startsWith("/$bunfs/") ? dirname(process.execPath) : process.cwd();
}

export function resolveWatchdogConfig(args: WatchdogArgs): WatchdogConfig {
  const proxies = args.proxies === undefined ? 2 : parseInteger("--proxies", args.proxies, 0, 64);
  const servers = args.servers === undefined ? 3 : parseInteger("--servers", args.servers, 0, MAX_SERVERS);
  if (Math.max(1, proxies) * servers > MAX_SERVERS) {
    throw new CliError(`--proxies ${proxies} with --servers ${servers} is ${proxies * servers} servers; at most ${MAX_SERVERS} are supported`);
  }
  return {
    proxies,
    servers,
    runDir: resolveRunDir(args["run-dir"]),
    binDir: args["bin-dir"] ?? defaultBinDir(),
    workMs: args["work-ms"] === undefined ? 0 : parseMillis("--work-ms", args["work-ms"]),
    readyTimeoutMs: args["ready-timeout-ms"] === undefined ? 10_000 : Math.max(100, parseMillis("--ready-timeout-ms", args["ready-timeout-ms"])),
    stopTimeoutMs: args["stop-timeout-ms"] === undefined ? 5000 : Math.max(100, parseMillis("--stop-timeout-ms", args["stop-timeout-ms"])),
    lbPolicy: checkPolicy("--lb-policy", args["lb-policy"] ?? "client-id"),
    proxyPolicy: checkPolicy("--proxy-policy", args["proxy-policy"] ?? "random"),
    httpHost: checkHost(args["http-host"] ?? "127.0.0.1"),
    httpPort: args["http-port"] === undefined ? 5000 : args["http-port"] === "off" ? null : parseInteger("--http-port", args["http-port"], 0, 65535),
    // The environment keeps the token out of `ps`; the load balancer inherits it either way.
    adminToken: parseAdminToken("--admin-token", args["admin-token"]) ?? parseAdminToken(`$${ADMIN_TOKEN_ENV}`, process.env[ADMIN_TOKEN_ENV] || undefined),
    externalUpstreams: args.upstream === undefined ? [] : args.upstream.split(",").map((url) => parseHttpUpstream("--upstream", url)),
    healthPath: checkHealthPath(args["health-path"]),
    timeoutMs: args["timeout-ms"] === undefined ? undefined : Math.max(1, parseMillis("--timeout-ms", args["timeout-ms"])),
    httpKey: args["http-key"] === undefined ? undefined : (parseHttpKey("--http-key", args["http-key"]), args["http-key"]),
    configFile: args.config === undefined ? undefined : resolve(args.config),
    dataDir: args["data-dir"] === undefined ? undefined : resolve(args["data-dir"]),
    rooms: args.rooms !== false,
    ...resolveTuning(args),
    ...resolveLogOptions(args),
  };
}


function checkHost(host: string): string {
  // An IPv6 address may come bracketed as in a URL; the load balancer wants it bare.
  const bare = host.replace(/^\[(.*)\]$/, "$1");
  if (bare === "" || /[\s/@?#]/.test(bare)) throw new CliError(`--http-host must be a host name or IP address, got "${host}"`);
  return bare;
}



function checkHealthPath(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  if (!path.startsWith("/") || /[\s#]/.test(path)) throw new CliError(`--health-path must be a path starting with / (such as /heartbeat), got "${path}"`);
  return path;
}
