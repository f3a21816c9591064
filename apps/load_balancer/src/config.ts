import type { HttpServerLimits } from "@switchyard/http";
import type { LruBounds } from "@switchyard/upstream";
import { type HttpLimitArgs, resolveHttpLimits } from "./http-limits.ts";
import { type Routing, parseRouting } from "./routing.ts";
import { type AddressList, parseAddressList } from "./address-list.ts";
import { type RateLimit, defaultBurst, parseRate } from "./rate-limit.ts";
import { type CompressionOptions, DEFAULT_TYPES, ENCODINGS, type Encoding } from "./compression.ts";
import { ADMIN_TOKEN_ENV, CliError, type ConfigSections, type HopArgs, type HopConfig, type HttpKeyRule, fleetSocket, parseAdminToken, parseHttpKey, parseInteger, resolveHopConfig, resolveRunDir } from "@switchyard/cli";

/** Clients connect to `listen` (default <run-dir>/load_balancer.sock, which `./client` finds by itself). */
export interface BalancerConfig extends HopConfig {
  /** The upstreams are servers, not reverse proxies: the flat topology of seeds 001/002. */
  flat: boolean;
  /** The HTTP front door (seeds/002's port 5000), or undefined with --http-port off. */
  http: { host: string; port: number } | undefined;
  /** --admin-token: /add and /rm need `Authorization: Bearer <token>`; without it they answer loopback clients only. */
  adminToken: string | undefined;
  /** What an HTTP request is routed on. */
  httpKey: HttpKeyRule;
  /** The front door's limits and timeouts that were set (the server's defaults for the others). */
  httpLimits: Partial<HttpServerLimits>;
  /** Named pools and the routes to them, from the config file (none: every request goes to the default). */
  routing: Routing;
  /** --allow / --deny: who may use the front door at all (deny wins); undefined: everyone / no one refused. */
  allow: AddressList | undefined;
  deny: AddressList | undefined;
  /** --admin-allow: who the admin API answers, instead of loopback only. */
  adminAllow: AddressList | undefined;
  /** --rate-limit / --rate-burst: per client address (HTTP) and per client id (wire); undefined: no limit. */
  rateLimit: RateLimit | undefined;
  /** --compress and its options; undefined: answers go as they are. */
  compression: CompressionOptions | undefined;
  /** --tls-cert / --tls-key: the front door speaks HTTPS (files read at start and on SIGHUP). */
  tls: { certFile: string; keyFile: string } | undefined;
  /** --http-redirect-port: a plain-HTTP port that redirects every request to the HTTPS front door. */
  redirectPort: number | undefined;
  /** --http-cache-entries / --http-cache-bytes: the shared HTTP cache; undefined: off. */
  httpCache: LruBounds | undefined;
  /** --access-log: a file to append one line per request to ("-": standard output); undefined: off. */
  accessLog: string | undefined;
}

export interface BalancerArgs extends HopArgs, HttpLimitArgs {
  allow?: string;
  deny?: string;
  "admin-allow"?: string;
  "rate-limit"?: string;
  "rate-burst"?: string;
  compress?: string;
  "tls-cert"?: string;
  "tls-key"?: string;
  "http-redirect-port"?: string;
  "http-cache-entries"?: string;
  "http-cache-bytes"?: string;
  "access-log"?: string;
  "compress-min-bytes"?: string;
  "compress-types"?: string;
  "run-dir"?: string;
  flat?: boolean;
  "http-port"?: string;
  "http-host"?: string;
  "admin-token"?: string;
  "http-key"?: string;
}

/** The seed's port. */
export const DEFAULT_HTTP_PORT = 5000;

/** Flags over the environment over defaults; the admin token may come from $SWITCHYARD_ADMIN_TOKEN (the watchdog passes it so). */
export function resolveBalancerConfig(args: BalancerArgs, env: Record<string, string | undefined> = process.env, file: ConfigSections = { values: {} }): BalancerConfig {
  const hop = resolveHopConfig(args, fleetSocket.loadBalancer(resolveRunDir(args["run-dir"])), 8000, "client-id");
  const token = args["admin-token"] !== undefined ? parseAdminToken("--admin-token", args["admin-token"]) : parseAdminToken(`$${ADMIN_TOKEN_ENV}`, env[ADMIN_TOKEN_ENV] || undefined);
  const policyName = hop.policy.split(":")[0];
  return {
    ...hop,
    flat: args.flat === true,
    http: args["http-port"] === "off" ? undefined : { host: args["http-host"] ?? "127.0.0.1", port: args["http-port"] === undefined ? DEFAULT_HTTP_PORT : parseInteger("--http-port", args["http-port"], 0, 65535) },
    adminToken: token,
    httpKey: parseHttpKey("--http-key", args["http-key"] ?? (policyName === "ip-hash" ? "address" : "request")),
    httpLimits: resolveHttpLimits(args),
    routing: parseRouting(file),
    allow: parseAddressList("--allow", args.allow),
    deny: parseAddressList("--deny", args.deny),
    adminAllow: parseAddressList("--admin-allow", args["admin-allow"]),
    rateLimit: resolveRateLimit(args),
    compression: resolveCompression(args),
    ...resolveTls(args),
    httpCache: resolveHttpCache(args),
    accessLog: resolveAccessLog(args["access-log"]),
  };
}

function resolveAccessLog(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === "off") return undefined;
  if (raw.trim() === "") throw new CliError('--access-log takes a file, "-" for standard output, or off');
  return raw;
}

function resolveRateLimit(args: BalancerArgs): RateLimit | undefined {
  const raw = args["rate-limit"];
  if (raw === undefined || raw.trim() === "0") {
    if (args["rate-burst"] !== undefined) throw new CliError("--rate-burst needs --rate-limit");
    return undefined;
  }
  const rate = parseRate(raw);
  if (rate === undefined) throw new CliError(`--rate-limit must be requests per second, as 10 or 10/s, 600/m, 3600/h, got "${raw}"`);
  return { rate, burst: args["rate-burst"] === undefined ? defaultBurst(rate) : parseInteger("--rate-burst", args["rate-burst"], 1) };
}

function resolveCompression(args: BalancerArgs): CompressionOptions | undefined {
  const raw = args.compress;
  if (raw === undefined || raw === "off") {
    if (args["compress-min-bytes"] !== undefined || args["compress-types"] !== undefined) throw new CliError("--compress-min-bytes and --compress-types need --compress");
    return undefined;
  }
  const names = raw === "on" ? [...ENCODINGS] : raw.split(",").map((name) => name.trim());
  for (const name of names) {
    if (!(ENCODINGS as readonly string[]).includes(name)) throw new CliError(`--compress takes on, off or a list of ${ENCODINGS.join(", ")}, got "${raw}"`);
  }
  const types = args["compress-types"]?.split(",").map((type) => type.trim().toLowerCase());
  if (types !== undefined && types.some((type) => !/^(\+[\w.-]+|[\w.-]+\/(\*|[\w.+-]+))$/.test(type))) {
    throw new CliError(`--compress-types takes media types (application/json), families (text/*) or suffixes (+json), got "${args["compress-types"]}"`);
  }
  return {
    encodings: [...new Set(names)] as Encoding[],
    minBytes: args["compress-min-bytes"] === undefined ? 1024 : parseInteger("--compress-min-bytes", args["compress-min-bytes"], 0),
    types: types ?? DEFAULT_TYPES,
  };
}

function resolveTls(args: BalancerArgs): Pick<BalancerConfig, "tls" | "redirectPort"> {
  const cert = args["tls-cert"];
  const key = args["tls-key"];
  if ((cert === undefined) !== (key === undefined)) throw new CliError("--tls-cert and --tls-key go together");
  const redirect = args["http-redirect-port"];
  if (redirect !== undefined && cert === undefined) throw new CliError("--http-redirect-port needs --tls-cert and --tls-key (it redirects to HTTPS)");
  return {
    tls: cert === undefined || key === undefined ? undefined : { certFile: cert, keyFile: key },
    redirectPort: redirect === undefined ? undefined : parseInteger("--http-redirect-port", redirect, 0, 65535),
  };
}

function resolveHttpCache(args: BalancerArgs): LruBounds | undefined {
  const entries = args["http-cache-entries"] === undefined ? 0 : parseInteger("--http-cache-entries", args["http-cache-entries"], 0);
  if (entries === 0) {
    if (args["http-cache-bytes"] !== undefined) throw new CliError("--http-cache-bytes needs --http-cache-entries");
    return undefined;
  }
  return { maxEntries: entries, maxBytes: args["http-cache-bytes"] === undefined ? 64 * 1024 * 1024 : parseInteger("--http-cache-bytes", args["http-cache-bytes"], 1024) };
}
