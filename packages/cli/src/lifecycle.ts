import type { Logger } from "@switchyard/log";
import { type Address, Peer } from "@switchyard/net";
import type { Control } from "@switchyard/wire";

export type ShutdownSignal = "SIGTERM" | "SIGINT" | "SIGHUP";

/**
 * Runs `shutdown` once on SIGTERM or SIGINT (and when the watchdog disappears), then exits 0.
 * A second signal while shutting down exits at once.
 */
export function onShutdown(log: Logger, supervised: boolean, shutdown: (why: string) => Promise<void>): (why: string) => void {
  let stopping = false;
  const stop = (why: string) => {
    if (stopping) {
      log.warn(`${why} again while shutting down. Exiting now.`);
      process.exit(1);
    }
    stopping = true;
    shutdown(why).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error(`Shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      log.info(`Received ${signal}${supervised ? " from watchdog" : ""}. Terminating.`);
      stop(signal);
    });
  }
  return stop;
}

/** What a supervised role may ask its watchdog (the load balancer's /rep, /add and /rm). */
export interface WatchdogLink {
  /** Sends a request on the control socket; rejects with NetError (a refusal has code "remote"). */
  request(op: string, body: unknown, timeoutMs: number): Promise<unknown>;
}

export interface Lifeline extends WatchdogLink {
  /** Tells the watchdog this process is serving. */
  ready(data: Record<string, unknown>): void;
  close(): void;
}

/**
 * The control connection to the watchdog: readiness goes up it, and when it closes (the watchdog
 * died, even by SIGKILL) `onLost` runs, so no child outlives its supervisor.
 */
export function attachToWatchdog(address: Address, role: string, id: number, onLost: () => void, onControl?: (message: Control) => void): Lifeline {
  let lost = false;
  const peer = new Peer({
    address,
    role,
    id,
    reconnect: false,
    connectTimeoutMs: 2000,
    ...(onControl ? { onControl } : {}),
    onStateChange(state) {
      if ((state === "closed" || state === "down") && !lost) {
        lost = true;
        onLost();
      }
    },
  });
  return {
    ready(data) {
      peer.send({ t: "ctl", kind: "ready", data: { pid: process.pid, ...data } });
    },
    request(op, body, timeoutMs) {
      return peer.request(op, body, timeoutMs);
    },
    close() {
      lost = true;
      peer.close();
    },
  };
}
