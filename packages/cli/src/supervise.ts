import type { Logger } from "@switchyard/log";
import { type Address, formatAddress } from "@switchyard/net";
import { attachToWatchdog, onShutdown } from "./lifecycle.ts";

export interface ServingRole {
  log: Logger;
  /** The hello identity on the control socket: role "server" and id 3 for Server #3. */
  role: string;
  id: number;
  listen: Address;
  /** The watchdog's control socket, when started by one. */
  control: Address | undefined;
  /** Finishes in-flight work and closes; runs once, on SIGTERM/SIGINT or when the watchdog is gone. */
  drain(timeoutMs: number): Promise<void>;
}

/** How long a child drains on shutdown; below the watchdog's default stop timeout (5 s). */
const DRAIN_MS = 4000;

/** Shutdown on signals, and (when supervised) readiness and the lifeline to the watchdog. Call once serving. */
export function superviseRole(r: ServingRole): void {
  const stop = onShutdown(r.log, r.control !== undefined, () => r.drain(DRAIN_MS));
  if (r.control === undefined) return;
  attachToWatchdog(r.control, r.role, r.id, () => {
    r.log.warn("Lost the watchdog. Terminating.");
    stop("watchdog gone");
  }).ready({ listen: formatAddress(r.listen) });
}
