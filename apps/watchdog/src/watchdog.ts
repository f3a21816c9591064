import { accessSync, constants } from "node:fs";
import { join } from "node:path";
import { CliError, fleetSocket } from "@switchyard/cli";
import type { Logger } from "@switchyard/log";
import { parseAddress } from "@switchyard/net";
import { type ChildState, SupervisedChild } from "./child.ts";
import type { WatchdogConfig } from "./config.ts";
import { type ControlSocket, listenForChildren } from "./control.ts";
import { createFleetControl } from "./fleet-control.ts";
import { type RouterId, createFleet } from "./fleet.ts";
import { type ChildSpec, TIERS, httpUrl, routerSpecs, serverAddress, serverSpec } from "./plan.ts";
import { type Upstream, createRouterSync } from "./router-sync.ts";
import { type RunDirLock, lockRunDir } from "./run-dir-lock.ts";
import { type FleetStatus, type MemberFacts, StatusCollector } from "./status.ts";

/** How start() ended: the fleet serves, a signal stopped it meanwhile, or a member could never start (it is stopped). */
export type StartOutcome = "ready" | "stopped" | "failed";

export interface Watchdog {
  /** Every supervised process, servers first (the fleet changes with /add and /rm). */
  readonly children: readonly SupervisedChild[];
  /** Starts the fleet tier by tier and resolves when every member is ready (or the fleet stopped). */
  start(): Promise<StartOutcome>;
  /** Stops servers, then proxies, then the load balancer, each drained and waited for. */
  shutdown(): Promise<void>;
  /** SIGKILL everything at once (a second Ctrl-C). */
  kill(): void;
  /** Every process, its state and load, the rooms leader and the last lifecycle events (`fleet.status`). */
  status(): Promise<FleetStatus>;
}

const TIER_WORDS = { server: ["server", "servers"], proxy: ["reverse proxy", "reverse proxies"], balancer: ["load balancer", "load balancers"] };

/** Servers are checked even when none starts now: /add spawns them later. */
export function checkBinaries(config: Pick<WatchdogConfig, "binDir" | "proxies">): void {
  const names = ["server", ...(config.proxies > 0 ? ["reverse_proxy"] : []), "load_balancer"];
  for (const binary of names.map((name) => join(config.binDir, name))) {
    try {
      accessSync(binary, constants.X_OK);
    } catch {
      throw new CliError(`cannot run ${binary}: build the fleet with 'make' or point --bin-dir at the binaries`, 1);
    }
  }
}

export function createWatchdog(config: WatchdogConfig, log: Logger, rand: () => number = Math.random): Watchdog {
  checkBinaries(config);
  const fleet = createFleet(config);
  let control: ControlSocket | null = null;
  let lock: RunDirLock | null = null;
  let fleetReady = false;
  let failed = false;
  let stopped: Promise<void> | null = null;

  const collector = new StatusCollector();
  const sync = createRouterSync((router, news) => control?.tell(router, news) ?? false);
  const upstreamsOf = (router: RouterId): Upstream[] =>
    fleet.membersOf(router).map((slot) => ({ n: slot.n, address: serverAddress(config, slot.n) }));

  const supervise = (spec: ChildSpec) =>
    new SupervisedChild({
      spec,
      log,
      readyTimeoutMs: config.readyTimeoutMs,
      onLifecycle(member, alive) {
        control?.announce(member, alive);
        collector.record(alive ? "respawn" : "death", alive ? `${member.label} is back` : `${member.label} has died`);
      },
      onFatal(member) {
        // After the fleet is ready only an added server can fail so; fleet.add reports it.
        if (fleetReady || stopped) return;
        failed = true;
        log.error(`${member.label} cannot start: see its error above. Stopping the fleet.`);
        void shutdown();
      },
    });

  const servers = createFleetControl({
    fleet,
    log,
    readyTimeoutMs: config.readyTimeoutMs,
    stopTimeoutMs: config.stopTimeoutMs,
    rand,
    address: (n) => serverAddress(config, n),
    createChild: (slot) => supervise(serverSpec(config, slot)),
    tell: (router, news) => sync.tell(router, news),
  });
  const routers = routerSpecs(config, (router) => {
    // What a router is spawned with is what it knows until it is told more.
    const upstreams = upstreamsOf(router);
    sync.started(router, upstreams);
    return upstreams;
  }).map(supervise);
  const children = () => [...servers.children(), ...routers];

  /** What the watchdog knows of every member; a server's name and proxy as /rep shows them. */
  const memberFacts = (): MemberFacts[] => {
    const replicas = new Map(servers.replicas().map((r) => [r.n, r]));
    return children().map((child) => {
      const replica = child.spec.role === "server" ? replicas.get(child.spec.id) : undefined;
      const listen = child.readyInfo.listen;
      return {
        role: child.spec.role,
        n: child.spec.role === "load_balancer" ? 0 : child.spec.id,
        name: replica?.name ?? child.spec.label,
        pid: child.runningPid,
        state: shownState(child.state, child.runningPid !== null),
        restarts: child.restarts,
        uptimeSeconds: child.uptimeSeconds,
        proxy: replica?.proxy ?? null,
        address: replica?.address ?? (typeof listen === "string" ? listen : null),
      };
    });
  };
  const status = () => collector.collect(memberFacts(), config.proxies === 0 ? "flat" : "two-tier");
  /** The control socket's requests: the fleet's (fleet.rep, fleet.add, fleet.rm) and fleet.status. */
  const handle = async (op: string, body: unknown): Promise<unknown> => {
    if (op === "fleet.status") return status();
    const answer = await servers.handle(op, body);
    if (op === "fleet.add" || op === "fleet.rm") {
      const n = (answer as { replicas?: unknown[] } | null)?.replicas?.length;
      collector.record(op === "fleet.add" ? "add" : "rm", `${op === "fleet.add" ? "/add" : "/rm"}: now ${n} servers`);
    }
    return answer;
  };

  const count = (tier: ChildSpec["tier"]) => {
    const n = children().filter((c) => c.spec.tier === tier).length;
    return `${n} ${TIER_WORDS[tier][n === 1 ? 0 : 1]}`;
  };

  const shutdown = () => {
    stopped ??= (async () => {
      servers.close();
      // Every tier stops restarting at once; a load balancer that dies while servers drain stays down.
      for (const child of children()) child.retire();
      for (const tier of TIERS) {
        await Promise.all(children().filter((c) => c.spec.tier === tier).map((child) => child.stop(config.stopTimeoutMs)));
      }
      control?.close();
      collector.close();
      lock?.release();
    })();
    return stopped;
  };

  return {
    get children() {
      return children();
    },
    async start() {
      lock = await lockRunDir(config.runDir);
      control = await listenForChildren({
        address: parseAddress(fleetSocket.watchdog(config.runDir)),
        log,
        childFor: (role, id) => children().find((c) => c.spec.role === role && c.spec.id === id),
        handle,
        onRouter: (router) => sync.connected(router, upstreamsOf(router)),
      });
      for (const tier of TIERS) {
        const members = children().filter((c) => c.spec.tier === tier);
        for (const child of members) log.info(`Creating ${child.spec.label}`);
        await Promise.all(members.map((child) => child.start()));
        if (stopped) {
          await stopped;
          return failed ? "failed" : "stopped";
        }
      }
      fleetReady = true;
      servers.open();
      // A load balancer given --http-port 0 says in its ready message which port it got.
      const lb = routers.find((c) => c.spec.tier === "balancer");
      const http = typeof lb?.readyInfo.http === "string" ? lb.readyInfo.http : httpUrl(config);
      log.info(
        `Fleet ready: ${count("balancer")}, ${count("proxy")}, ${count("server")}. Clients connect to ${fleetSocket.loadBalancer(config.runDir)}${http ? `; HTTP on ${http}` : ""}`,
      );
      return "ready";
    },
    shutdown,
    status,
    kill() {
      servers.close();
      for (const child of children()) child.kill();
      control?.close();
      lock?.release();
    },
  };
}

/**
 * A member's state as status shows it: a re-created member not yet running is down; one that was
 * asked to stop and still runs is draining (finishing its requests in flight, as /rm and a stop do).
 */
function shownState(state: ChildState, running: boolean): string {
  if (state === "restarting" && !running) return "down";
  if (state === "stopping" && running) return "draining";
  return state;
}
