import { accessSync, constants } from "node:fs";
import { CliError, fleetSocket } from "@switchyard/cli";
import type { Logger } from "@switchyard/log";
import { parseAddress } from "@switchyard/net";
import { SupervisedChild } from "./child.ts";
import type { WatchdogConfig } from "./config.ts";
import { type ControlSocket, listenForChildren } from "./control.ts";
import { type ChildSpec, TIERS, planFleet } from "./plan.ts";
import { type RunDirLock, lockRunDir } from "./run-dir-lock.ts";

export interface Watchdog {
  readonly children: readonly SupervisedChild[];
  /** Starts the fleet tier by tier and resolves when every member is ready. */
  start(): Promise<void>;
  /** Stops servers, then proxies, then the load balancer, each drained and waited for. */
  shutdown(): Promise<void>;
  /** SIGKILL everything at once (a second Ctrl-C). */
  kill(): void;
}

const TIER_WORDS = { server: ["server", "servers"], proxy: ["reverse proxy", "reverse proxies"], balancer: ["load balancer", "load balancers"] };

export function checkBinaries(specs: readonly ChildSpec[]): void {
  for (const binary of new Set(specs.map((s) => s.binary))) {
    try {
      accessSync(binary, constants.X_OK);
    } catch {
      throw new CliError(`cannot run ${binary}: build the fleet with 'make' or point --bin-dir at the binaries`, 1);
    }
  }
}

export function createWatchdog(config: WatchdogConfig, log: Logger): Watchdog {
  const specs = planFleet(config);
  checkBinaries(specs);
  let control: ControlSocket | null = null;
  const onLifecycle = (spec: ChildSpec, alive: boolean) => control?.announce(spec, alive);
  const children = specs.map((spec) => new SupervisedChild({ spec, log, readyTimeoutMs: config.readyTimeoutMs, onLifecycle }));
  let lock: RunDirLock | null = null;
  let stopping = false;

  const count = (tier: ChildSpec["tier"]) => {
    const n = specs.filter((s) => s.tier === tier).length;
    return `${n} ${TIER_WORDS[tier][n === 1 ? 0 : 1]}`;
  };

  return {
    children,
    async start() {
      lock = await lockRunDir(config.runDir);
      control = await listenForChildren(parseAddress(fleetSocket.watchdog(config.runDir)), children, log);
      for (const tier of TIERS) {
        const members = children.filter((c) => c.spec.tier === tier);
        for (const child of members) log.info(`Creating ${child.spec.label}`);
        await Promise.all(members.map((child) => child.start()));
        if (stopping) return;
      }
      log.info(
        `Fleet ready: ${count("balancer")}, ${count("proxy")}, ${count("server")}. Clients connect to ${fleetSocket.loadBalancer(config.runDir)}`,
      );
    },
    async shutdown() {
      stopping = true;
      // Every tier stops restarting at once; a load balancer that dies while servers drain stays down.
      for (const child of children) child.retire();
      for (const tier of TIERS) {
        await Promise.all(children.filter((c) => c.spec.tier === tier).map((child) => child.stop(config.stopTimeoutMs)));
      }
      control?.close();
      lock?.release();
    },
    kill() {
      for (const child of children) child.kill();
      control?.close();
      lock?.release();
    },
  };
}
