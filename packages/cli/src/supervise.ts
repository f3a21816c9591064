import type { Logger } from "@switchyard/log";
import { type Address, formatAddress } from "@switchyard/net";
import type { Control } from "@switchyard/wire";
import { type WatchdogLink, attachToWatchdog, onShutdown } from "./lifecycle.ts";

/** What a running role must be able to do when asked to stop. */
export interface Drainable {
  /** Finishes in-flight work (up to `timeoutMs`) and closes. */
  drain(timeoutMs: number): Promise<void>;
  /** A control message from the watchdog (e.g. that an upstream died). */
  onWatchdog?(message: Control): void;
  /** Called once when supervised, before readiness is reported: the way to ask the watchdog things. */
  attach?(watchdog: WatchdogLink): void;
  /** Extra fields of the `ready` report (e.g. the HTTP address the load balancer got). */
  readyInfo?(): Record<string, unknown>;
}

export interface RoleOptions<R extends Drainable> {
  log: Logger;
  /** The hello identity on the control socket: role "server" and id 3 for Server #3. */
  role: string;
  id: number;
  listen: Address;
  /** The watchdog's control socket, when started by one. */
  control: Address | undefined;
  /** Creates the role, serving once it resolves. */
  create(): Promise<R>;
}

/** Drain time on SIGTERM: below the watchdog's default stop timeout (5 s). */
const DRAIN_MS = 4000;
/** Drain time when the watchdog is gone: children must be gone within 2 s of their supervisor. */
const ORPHAN_DRAIN_MS = 1500;

/**
 * Runs a role under the lifecycle every child shares: signal handlers first (a SIGTERM during
 * start-up is honoured too), then the role, then readiness and the lifeline to the watchdog.
 */
export async function runRole<R extends Drainable>(options: RoleOptions<R>): Promise<R> {
  const { log, control } = options;
  let role: R | undefined;
  const stop = onShutdown(log, control !== undefined, async (why) => {
    await role?.drain(why === "watchdog gone" ? ORPHAN_DRAIN_MS : DRAIN_MS);
  });
  role = await options.create();
  if (control !== undefined) {
    const running = role;
    const lifeline = attachToWatchdog(
      control,
      options.role,
      options.id,
      () => {
        log.warn("Lost the watchdog. Terminating.");
        stop("watchdog gone");
      },
      (message) => running.onWatchdog?.(message),
    );
    running.attach?.(lifeline);
    lifeline.ready({ listen: formatAddress(options.listen), ...running.readyInfo?.() });
  }
  return role;
}
