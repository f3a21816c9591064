import { join } from "node:path";
import { ADMIN_TOKEN_ENV, fleetSocket, tuningFlags } from "@switchyard/cli";
import type { WatchdogConfig } from "./config.ts";
import { LOAD_BALANCER, type RouterId, type ServerSlot } from "./fleet.ts";
import type { Upstream } from "./router-sync.ts";

export type Tier = "server" | "proxy" | "balancer";

/** Everything needed to start (and restart, identically) one member of the fleet. */
export interface ChildSpec {
  tier: Tier;
  /** As in the logs: "Server #4", "Reverse Proxy #2", "Load Balancer". */
  label: string;
  /** Role and id the child announces in its hello on the control socket. */
  role: "server" | "reverse_proxy" | "load_balancer";
  id: number;
  binary: string;
  /** Computed at every spawn: a restarted router starts with the fleet's membership of that moment. */
  args(): string[];
  /** Added to the watchdog's environment: secrets go here, not in args, which every user sees in `ps`. */
  env?: Record<string, string>;
}

/** Start order: what a tier depends on starts first (servers, proxies, then the load balancer); shutdown is the same order. */
export const TIERS: readonly Tier[] = ["server", "proxy", "balancer"];

export function serverAddress(config: Pick<WatchdogConfig, "runDir">, n: number): string {
  return fleetSocket.server(config.runDir, n);
}

/** `1=unix:/a.sock,2=…` for --upstreams; empty for a router that owns no server (yet). */
export function renderUpstreams(upstreams: readonly Upstream[]): string {
  return upstreams.map((u) => `${u.n}=${u.address}`).join(",");
}

/** The URL the load balancer's HTTP API is on, as the user would type it; undefined with --http-port off. */
export function httpUrl(config: Pick<WatchdogConfig, "httpHost" | "httpPort">): string | undefined {
  if (config.httpPort === null) return undefined;
  const host = config.httpHost.includes(":") ? `[${config.httpHost}]` : config.httpHost;
  return `http://${host}:${config.httpPort}`;
}

function commonFlags(config: WatchdogConfig): string[] {
  const file = config.configFile === undefined ? [] : ["--config", config.configFile];
  // --run-dir: what a child keeps beside its socket (the rooms group's registry) belongs to this fleet, not the default run directory.
  return ["--control", fleetSocket.watchdog(config.runDir), "--run-dir", config.runDir, "--log-level", config.logLevel, "--log-format", config.logFormat, ...file];
}

/** What the load balancer and the proxies share beyond tuning: the request budget. */
function routerFlags(config: WatchdogConfig): string[] {
  return [...tuningFlags(config), ...(config.timeoutMs === undefined ? [] : ["--timeout-ms", String(config.timeoutMs)])];
}

/** External http:// upstreams and their health path go to whoever routes to servers: the proxies, or the load balancer when flat. */
function externalFlags(config: WatchdogConfig): string[] {
  const health = config.healthPath === undefined ? [] : ["--health-path", config.healthPath];
  return [...config.externalUpstreams.flatMap((url) => ["--upstream", url]), ...health];
}

export function serverSpec(config: WatchdogConfig, slot: Pick<ServerSlot, "n" | "name">): ChildSpec {
  const address = serverAddress(config, slot.n);
  const work = config.workMs > 0 ? ["--work-ms", String(config.workMs)] : [];
  if (config.dataDir !== undefined) work.push("--data-dir", config.dataDir);
  if (!config.rooms) work.push("--no-rooms");
  const args = ["--id", String(slot.n), "--name", slot.name, "--listen", address, ...work, ...commonFlags(config)];
  return { tier: "server", label: `Server #${slot.n}`, role: "server", id: slot.n, binary: join(config.binDir, "server"), args: () => args };
}

/**
 * The reverse proxies and the load balancer. `upstreamsOf` gives a router's servers when it is
 * spawned; in the two-tier topology the load balancer's upstreams are the proxies, which never change.
 */
export function routerSpecs(config: WatchdogConfig, upstreamsOf: (router: RouterId) => readonly Upstream[]): ChildSpec[] {
  const dir = config.runDir;
  const tuning = routerFlags(config);
  const common = commonFlags(config);
  const specs: ChildSpec[] = [];
  for (let k = 1; k <= config.proxies; k++) {
    const router: RouterId = { role: "reverse_proxy", id: k };
    specs.push({
      tier: "proxy",
      label: `Reverse Proxy #${k}`,
      role: "reverse_proxy",
      id: k,
      binary: join(config.binDir, "reverse_proxy"),
      args: () => [
        "--id", String(k),
        "--listen", fleetSocket.proxy(dir, k),
        "--upstreams", renderUpstreams(upstreamsOf(router)),
        "--policy", config.proxyPolicy,
        ...externalFlags(config),
        ...tuning,
        ...common,
      ],
    });
  }
  const flat = config.proxies === 0;
  const proxies = Array.from({ length: config.proxies }, (_, i) => ({ n: i + 1, address: fleetSocket.proxy(dir, i + 1) }));
  const http = [
    "--http-host", config.httpHost,
    "--http-port", config.httpPort === null ? "off" : String(config.httpPort),
    ...(config.httpKey === undefined ? [] : ["--http-key", config.httpKey]),
  ];
  specs.push({
    tier: "balancer",
    label: "Load Balancer",
    role: "load_balancer",
    id: 0,
    binary: join(config.binDir, "load_balancer"),
    ...(config.adminToken === undefined ? {} : { env: { [ADMIN_TOKEN_ENV]: config.adminToken } }),
    args: () => [
      "--listen", fleetSocket.loadBalancer(dir),
      "--upstreams", renderUpstreams(flat ? upstreamsOf(LOAD_BALANCER) : proxies),
      ...(flat ? ["--flat", ...externalFlags(config)] : []),
      "--policy", config.lbPolicy,
      ...http,
      ...tuning,
      ...common,
    ],
  });
  return specs;
}
