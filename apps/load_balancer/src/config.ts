import { type HopArgs, type HopConfig, fleetSocket, resolveHopConfig, resolveRunDir } from "@switchyard/cli";

/** Clients connect to `listen` (default <run-dir>/load_balancer.sock, which `./client` finds by itself); upstreams are the reverse proxies. */
export type BalancerConfig = HopConfig;

export interface BalancerArgs extends HopArgs {
  "run-dir"?: string;
}

export function resolveBalancerConfig(args: BalancerArgs): BalancerConfig {
  return resolveHopConfig(args, fleetSocket.loadBalancer(resolveRunDir(args["run-dir"])), 8000, "client-id");
}
