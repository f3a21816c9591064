import type { Drainable, WatchdogLink } from "@switchyard/cli";
import type { Logger } from "@switchyard/log";
import type { Control } from "@switchyard/wire";
import { createAdminEndpoints } from "./admin.ts";
import { type Balancer, createBalancer } from "./balancer.ts";
import type { BalancerConfig } from "./config.ts";
import { type FleetApi, unsupervisedFleet, watchdogFleet } from "./fleet-api.ts";
import { type FrontDoor, openFrontDoor } from "./front-door.ts";
import { httpKey } from "./http-key.ts";
import { createThrottle } from "./throttle.ts";

export interface LoadBalancer extends Drainable {
  readonly balancer: Balancer;
  /** The HTTP front door's address, when it is on. */
  readonly httpUrl: string | undefined;
}

/** --allow and --deny as one check (deny wins); undefined when neither is set, so nothing is checked per connection. */
function admission(config: BalancerConfig): ((address: string) => boolean) | undefined {
  const { allow, deny } = config;
  if (allow === undefined && deny === undefined) return undefined;
  return (address) => !(deny?.has(address) ?? false) && (allow?.has(address) ?? true);
}

/** The wire tier plus the HTTP front door and its admin API, stopped together. */
export async function createLoadBalancer(config: BalancerConfig, log: Logger): Promise<LoadBalancer> {
  const balancer = await createBalancer(config, log);
  let fleet: FleetApi = unsupervisedFleet(balancer.pool, config.flat);
  let door: FrontDoor | undefined;
  try {
    if (config.http) {
      door = openFrontDoor({
        ...config.http,
        limits: config.httpLimits,
        admit: admission(config),
        throttle: createThrottle(config.rateLimit, config.routing.rules),
        compression: config.compression,
        log,
        admin: createAdminEndpoints({
          fleet: () => fleet,
          token: config.adminToken,
          allow: config.adminAllow,
          log,
          // In the flat topology the load balancer checks the servers itself: its view is the one that routes.
          health: config.flat ? (replica) => balancer.pool.members.find((m) => m.n === replica.n)?.alive : undefined,
        }),
        route: balancer.routeHttp,
        key: (headers, address) => httpKey(config.httpKey, headers, address),
      });
    }
  } catch (error) {
    await balancer.drain(0);
    throw error;
  }
  return {
    balancer,
    httpUrl: door?.url,
    attach(link: WatchdogLink) {
      fleet = watchdogFleet(link);
    },
    readyInfo: () => (door ? { http: door.url } : {}),
    onWatchdog: (message: Control) => balancer.onWatchdog(message),
    async drain(timeoutMs) {
      const stopped = door?.stop();
      await balancer.drain(timeoutMs);
      await stopped;
    },
  };
}
