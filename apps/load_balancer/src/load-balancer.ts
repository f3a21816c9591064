import { readFileSync } from "node:fs";
import { CliError, type Drainable, type WatchdogLink } from "@switchyard/cli";
import type { TlsFiles } from "@switchyard/http";
import type { Logger } from "@switchyard/log";
import type { Control } from "@switchyard/wire";
import { createAdminEndpoints } from "./admin.ts";
import { type Balancer, createBalancer } from "./balancer.ts";
import type { BalancerConfig } from "./config.ts";
import { type FleetApi, unsupervisedFleet, watchdogFleet } from "./fleet-api.ts";
import { type FrontDoor, openFrontDoor, openRedirect } from "./front-door.ts";
import { HttpCache } from "./http-cache.ts";
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

/** The PEM files of --tls-cert and --tls-key; a file that cannot be read is a configuration error (exit 78). */
function readTls(files: { certFile: string; keyFile: string }): TlsFiles {
  const read = (flag: string, file: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      throw new CliError(`${flag} ${file}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 78);
    }
  };
  return { cert: read("--tls-cert", files.certFile), key: read("--tls-key", files.keyFile) };
}

/**
 * SIGHUP re-reads the certificate and key (renewed by certbot, say): new connections get them, none
 * is dropped. Without TLS there is nothing to reload, and the signal must not end the process.
 */
function reloadOnSignal(door: FrontDoor | undefined, files: { certFile: string; keyFile: string } | undefined, log: Logger): () => void {
  return () => {
    if (door === undefined || files === undefined) {
      log.info("Received SIGHUP. Nothing to reload (no --tls-cert).");
      return;
    }
    try {
      door.reloadTls(readTls(files));
      log.info(`Received SIGHUP. TLS certificate reloaded from ${files.certFile}`);
    } catch (error) {
      log.error(`Received SIGHUP. TLS certificate not reloaded, the current one stays: ${(error as Error).message}`);
    }
  };
}

/** The wire tier plus the HTTP front door and its admin API, stopped together. */
export async function createLoadBalancer(config: BalancerConfig, log: Logger): Promise<LoadBalancer> {
  const balancer = await createBalancer(config, log);
  let fleet: FleetApi = unsupervisedFleet(balancer.pool, config.flat);
  let door: FrontDoor | undefined;
  let redirect: FrontDoor | undefined;
  let stopReloading = () => {};
  try {
    if (config.http) {
      const tls = config.tls === undefined ? undefined : readTls(config.tls);
      const cache = config.httpCache === undefined ? undefined : new HttpCache(config.httpCache);
      door = openFrontDoor({
        ...config.http,
        tls,
        limits: config.httpLimits,
        admit: admission(config),
        throttle: createThrottle(config.rateLimit, config.routing.rules),
        compression: config.compression,
        cache,
        log,
        admin: createAdminEndpoints({
          fleet: () => fleet,
          token: config.adminToken,
          allow: config.adminAllow,
          httpCache: cache,
          log,
          // In the flat topology the load balancer checks the servers itself: its view is the one that routes.
          health: config.flat ? (replica) => balancer.pool.members.find((m) => m.n === replica.n)?.alive : undefined,
        }),
        route: balancer.routeHttp,
        key: (headers, address) => httpKey(config.httpKey, headers, address),
      });
      if (config.redirectPort !== undefined) redirect = openRedirect(config.http.host, config.redirectPort, Number(new URL(door.url).port));
    }
    const onHangup = reloadOnSignal(door, config.tls, log);
    process.on("SIGHUP", onHangup);
    stopReloading = () => process.off("SIGHUP", onHangup);
  } catch (error) {
    await door?.stop(0);
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
      stopReloading();
      const stopped = Promise.all([door?.stop(), redirect?.stop()]);
      await balancer.drain(timeoutMs);
      await stopped;
    },
  };
}
