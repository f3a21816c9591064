import { join } from "node:path";
import { fleetSocket, tuningFlags } from "@switchyard/cli";
import type { WatchdogConfig } from "./config.ts";

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
  args: string[];
}

/** Start order: what a tier depends on starts first (servers, proxies, then the load balancer); shutdown is the same order. */
export const TIERS: readonly Tier[] = ["server", "proxy", "balancer"];

/** The fleet of seeds/000, generalised: Reverse Proxy #k owns Servers #(k-1)·S+1 … #k·S. */
export function planFleet(config: WatchdogConfig): ChildSpec[] {
  const dir = config.runDir;
  const control = fleetSocket.watchdog(dir);
  const common = ["--control", control, "--log-level", config.logLevel, "--log-format", config.logFormat];
  const tuning = tuningFlags(config);
  const specs: ChildSpec[] = [];
  for (let k = 1; k <= config.proxies; k++) {
    const owned: string[] = [];
    for (let j = 1; j <= config.servers; j++) {
      const n = (k - 1) * config.servers + j;
      owned.push(`${n}=${fleetSocket.server(dir, n)}`);
      const work = config.workMs > 0 ? ["--work-ms", String(config.workMs)] : [];
      specs.push({
        tier: "server",
        label: `Server #${n}`,
        role: "server",
        id: n,
        binary: join(config.binDir, "server"),
        args: ["--id", String(n), "--listen", fleetSocket.server(dir, n), ...work, ...common],
      });
    }
    specs.push({
      tier: "proxy",
      label: `Reverse Proxy #${k}`,
      role: "reverse_proxy",
      id: k,
      binary: join(config.binDir, "reverse_proxy"),
      args: ["--id", String(k), "--listen", fleetSocket.proxy(dir, k), "--upstreams", owned.join(","), "--policy", config.proxyPolicy, ...tuning, ...common],
    });
  }
  const proxies = Array.from({ length: config.proxies }, (_, i) => `${i + 1}=${fleetSocket.proxy(dir, i + 1)}`);
  specs.push({
    tier: "balancer",
    label: "Load Balancer",
    role: "load_balancer",
    id: 0,
    binary: join(config.binDir, "load_balancer"),
    args: ["--listen", fleetSocket.loadBalancer(dir), "--upstreams", proxies.join(","), "--policy", config.lbPolicy, ...tuning, ...common],
  });
  return specs;
}
