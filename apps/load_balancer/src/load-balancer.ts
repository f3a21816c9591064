import { readFileSync } from "node:fs";
import { CliError, type Drainable, type WatchdogLink } from "@switchyard/cli";
import type { TlsFiles } from "@switchyard/http";
import type { Logger } from "@switchyard/log";
import { formatAddress } from "@switchyard/net";
import type { Control } from "@switchyard/wire";
import { createAdminEndpoints } from "./admin.ts";
import { type Balancer, createBalancer } from "./balancer.ts";
import type { BalancerConfig } from "./config.ts";
import { type FleetApi, unsupervisedFleet, watchdogFleet } from "./fleet-api.ts";
import { type FrontDoor, openFrontDoor, openRedirect } from "./front-door.ts";
import { HttpCache } from "./http-cache.ts";
import { httpKey } from "./http-key.ts";
import { createThrottle } from "./throttle.ts";
import { AccessLog } from "./access-log.ts";
import { FleetMetrics } from "./metrics.ts";
import { StatsSource } from "./stats.ts";
import { Traffic } from "./traffic.ts";
import { createViews } from "./views.ts";

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
function reloadOnSignal(door: FrontDoor | undefined, files: { certFile: string; keyFile: string } | undefined, accessLog: AccessLog | undefined, log: Logger): () => void {
  return () => {
    // The access log is opened again by name, as nginx does on USR1 (logrotate has moved the old file).
    accessLog?.reopen();
    if (door === undefined || files === undefined) {
      if (accessLog === undefined) log.info("Received SIGHUP. Nothing to reload (no --tls-cert, no --access-log).");
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

/** The wire tier plus the HTTP front door, its admin API and its views of the fleet, stopped together. */
export async function createLoadBalancer(config: BalancerConfig, log: Logger): Promise<LoadBalancer> {
  const metrics = new FleetMetrics();
  const accessLog = config.accessLog === undefined ? undefined : new AccessLog(config.accessLog, config.logFormat, log);
  const traffic = new Traffic(metrics.registry, accessLog);
  let balancer: Balancer;
  try {
    balancer = await createBalancer(config, log, traffic);
  } catch (error) {
    accessLog?.close();
    throw error;
  }
  const cache = config.httpCache === undefined ? undefined : new HttpCache(config.httpCache);
  const startedAt = Date.now();
  const source = new StatsSource({
    topology: config.flat ? "flat" : "two-tier",
    traffic,
    wire: () => {
      const { total, errors, inflight } = balancer.listener.stats();
      return { requests: total, errors, inflight };
    },
    self: () => {
      const { total, errors, inflight } = balancer.listener.stats();
      const hop = balancer.stats();
      return {
        role: "load_balancer",
        n: 0,
        name: "Load Balancer",
        pid: process.pid,
        state: "up",
        restarts: 0,
        uptimeSeconds: (Date.now() - startedAt) / 1000,
        proxy: null,
        address: formatAddress(config.listen),
        memoryBytes: process.memoryUsage.rss(),
        // Its wire listener's requests and its front door's: all the load it answered.
        requests: total + traffic.http.requests,
        errors: errors + traffic.http.errors,
        inflight: inflight + traffic.http.inflight,
        hop: cache === undefined ? hop : { ...hop, cache: cache.stats },
      };
    },
  });
  const views = createViews({ source, metrics, allow: config.adminAllow, log });
  let fleet: FleetApi = unsupervisedFleet(balancer.pool, config.flat);
  let door: FrontDoor | undefined;
  let redirect: FrontDoor | undefined;
  let stopReloading = () => {};
  try {
    if (config.http) {
      const tls = config.tls === undefined ? undefined : readTls(config.tls);
      door = openFrontDoor({
        ...config.http,
        tls,
        limits: config.httpLimits,
        admit: admission(config),
        throttle: createThrottle(config.rateLimit, config.routing.rules),
        compression: config.compression,
        cache,
        views,
        traffic,
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
    const onHangup = reloadOnSignal(door, config.tls, accessLog, log);
    process.on("SIGHUP", onHangup);
    stopReloading = () => process.off("SIGHUP", onHangup);
  } catch (error) {
    await door?.stop(0);
    await balancer.drain(0);
    accessLog?.close();
    throw error;
  }
  return {
    balancer,
    httpUrl: door?.url,
    attach(link: WatchdogLink) {
      fleet = watchdogFleet(link);
      source.attach(link);
    },
    readyInfo: () => (door ? { http: door.url } : {}),
    onWatchdog: (message: Control) => balancer.onWatchdog(message),
    async drain(timeoutMs) {
      stopReloading();
      // Live /events streams never end by themselves: they are closed so the front door can stop.
      views.close();
      const stopped = Promise.all([door?.stop(), redirect?.stop()]);
      await balancer.drain(timeoutMs);
      await stopped;
      accessLog?.close();
    },
  };
}
