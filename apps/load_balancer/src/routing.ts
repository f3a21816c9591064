import { CliError, type ConfigSections, parseHttpUpstream } from "@switchyard/cli";
import type { HeaderList } from "@switchyard/http";
import { type RateLimit, defaultBurst, parseRate } from "./rate-limit.ts";

/** The load balancer's own upstreams (its servers or proxies, or its --upstream list): where unmatched requests go. */
export const DEFAULT_POOL = "default";

/** One `[[load_balancer.routes]]` entry: every condition it has must hold. */
export interface RouteRule {
  pool: string;
  /** "/api/*": paths starting with "/api/"; "/api": "/api" itself and everything under "/api/". */
  path?: string;
  /** Lower-case, without a port; "*.example.com" also matches its subdomains. */
  host?: string;
  methods?: ReadonlySet<string>;
  header?: { name: string; value?: string };
  /** `rate-limit` / `rate-burst`: requests each client address may make on this route. */
  limit?: RateLimit;
}

export interface Routing {
  /** Named pools of external http:// upstreams, in the file's order. */
  pools: ReadonlyMap<string, readonly string[]>;
  rules: readonly RouteRule[];
}

const POOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;
const ROUTE_KEYS = new Set(["pool", "path", "host", "method", "header", "rate-limit", "rate-burst"]);

/**
 * Reads `pools` and `routes` from the load balancer's config table. Anything that would route
 * differently from what the file seems to say (an unknown key or pool, a path without "/") is
 * refused naming the entry.
 */
export function parseRouting(file: ConfigSections): Routing {
  const where = (what: string) => `${file.path ?? "config"}: [load_balancer] ${what}`;
  const refuse = (what: string, why: string) => new CliError(`${where(what)}: ${why}`, 78);
  const pools = new Map<string, string[]>();
  const rawPools = file.values.pools;
  if (rawPools !== undefined) {
    if (!isTable(rawPools)) throw refuse("pools", 'must be a table of pool names to lists of URLs ([load_balancer.pools] api = ["http://127.0.0.1:8081"])');
    for (const [name, urls] of Object.entries(rawPools)) {
      if (!POOL_NAME.test(name) || name === DEFAULT_POOL) throw refuse(`pools.${name}`, `a pool name is 1-64 letters, digits, _ or - (and not "${DEFAULT_POOL}")`);
      const list = typeof urls === "string" ? [urls] : urls;
      if (!Array.isArray(list) || list.length === 0 || !list.every((url) => typeof url === "string")) throw refuse(`pools.${name}`, "must be a URL or a non-empty list of URLs");
      try {
        pools.set(name, list.map((url) => parseHttpUpstream(`pools.${name}`, url as string)));
      } catch (error) {
        throw error instanceof CliError ? new CliError(`${where("")}${error.message}`, 78) : error;
      }
    }
  }
  const rawRoutes = file.values.routes;
  if (rawRoutes === undefined) return { pools, rules: [] };
  if (!Array.isArray(rawRoutes)) throw refuse("routes", "must be a list of tables ([[load_balancer.routes]])");
  const rules = rawRoutes.map((raw, i) => parseRule(raw, (why) => refuse(`routes[${i + 1}]`, why), pools));
  return { pools, rules };
}

function parseRule(raw: unknown, refuse: (why: string) => CliError, pools: ReadonlyMap<string, readonly string[]>): RouteRule {
  if (!isTable(raw)) throw refuse("must be a table");
  for (const key of Object.keys(raw)) if (!ROUTE_KEYS.has(key)) throw refuse(`unknown key "${key}" (a route has ${[...ROUTE_KEYS].join(", ")})`);
  const { pool, path, host, method, header } = raw;
  const rate = raw["rate-limit"];
  const burst = raw["rate-burst"];
  if (typeof pool !== "string" || (pool !== DEFAULT_POOL && !pools.has(pool))) throw refuse(`pool ${JSON.stringify(pool)} is not one of [load_balancer.pools] (or "${DEFAULT_POOL}")`);
  const rule: RouteRule = { pool };
  if (path !== undefined) {
    if (typeof path !== "string" || !path.startsWith("/") || /[\s?#]/.test(path)) throw refuse(`path ${JSON.stringify(path)} must start with / (a query cannot be matched)`);
    rule.path = path;
  }
  if (host !== undefined) {
    if (typeof host !== "string" || host === "" || /[\s/]/.test(host)) throw refuse(`host ${JSON.stringify(host)} must be a host name`);
    rule.host = host.toLowerCase();
  }
  if (method !== undefined) {
    const list = typeof method === "string" ? [method] : method;
    if (!Array.isArray(list) || list.length === 0 || !list.every((m) => typeof m === "string" && /^[A-Za-z]+$/.test(m))) throw refuse("method must be a method or a list of them");
    rule.methods = new Set(list.map((m) => (m as string).toUpperCase()));
  }
  if (header !== undefined) {
    const name = isTable(header) ? header.name : undefined;
    const value = isTable(header) ? header.value : undefined;
    if (!isTable(header) || typeof name !== "string" || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name) || (value !== undefined && typeof value !== "string")) {
      throw refuse('header must be { name = "X-Name" } or { name = "X-Name", value = "…" }');
    }
    rule.header = value === undefined ? { name: name.toLowerCase() } : { name: name.toLowerCase(), value };
  }
  if (rate !== undefined || burst !== undefined) {
    const perSecond = typeof rate === "number" ? (rate > 0 ? rate : undefined) : typeof rate === "string" ? parseRate(rate) : undefined;
    if (perSecond === undefined) throw refuse('rate-limit must be requests per second, as 10 or "10/s", "600/m", "3600/h"');
    if (burst !== undefined && (typeof burst !== "number" || !Number.isInteger(burst) || burst < 1)) throw refuse("rate-burst must be an integer >= 1");
    rule.limit = { rate: perSecond, burst: (burst as number | undefined) ?? defaultBurst(perSecond) };
  }
  return rule;
}

/** The pool of the first rule the request matches; DEFAULT_POOL when none does. */
export function selectPool(rules: readonly RouteRule[], method: string, path: string, headers: HeaderList): string {
  return matchRule(rules, method, path, headers)?.pool ?? DEFAULT_POOL;
}

/** The first rule the request matches, if any. */
export function matchRule(rules: readonly RouteRule[], method: string, path: string, headers: HeaderList): RouteRule | undefined {
  for (const rule of rules) {
    if (rule.methods !== undefined && !rule.methods.has(method)) continue;
    if (rule.path !== undefined && !pathMatches(rule.path, path)) continue;
    if (rule.host !== undefined && !hostMatches(rule.host, headerOf(headers, "host"))) continue;
    if (rule.header !== undefined) {
      const value = headerOf(headers, rule.header.name);
      if (value === undefined || (rule.header.value !== undefined && value !== rule.header.value)) continue;
    }
    return rule;
  }
  return undefined;
}

function pathMatches(pattern: string, path: string): boolean {
  if (pattern.endsWith("*")) return path.startsWith(pattern.slice(0, -1));
  if (pattern.endsWith("/")) return path.startsWith(pattern);
  return path === pattern || path.startsWith(`${pattern}/`);
}

function hostMatches(pattern: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  // Without the port: "Host: admin.local:5000" is admin.local. An IPv6 literal keeps its brackets.
  const name = host.toLowerCase().replace(/:\d+$/, "");
  return pattern.startsWith("*.") ? name.endsWith(pattern.slice(1)) : name === pattern;
}

function headerOf(headers: HeaderList, name: string): string | undefined {
  for (const [key, value] of headers) if (key.toLowerCase() === name) return value;
  return undefined;
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
