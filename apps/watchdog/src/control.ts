import { type Address, type Listener, RequestError, listen } from "@switchyard/net";
import type { Logger } from "@switchyard/log";
import type { SupervisedChild } from "./child.ts";

/**
 * The watchdog's control socket. Every child connects to it when it starts: it reports `ready`
 * here, and it exits when this connection closes, so children never outlive their watchdog.
 */
export function listenForChildren(address: Address, children: readonly SupervisedChild[], log: Logger): Promise<Listener> {
  const byIdentity = new Map(children.map((child) => [`${child.spec.role}:${child.spec.id}`, child]));
  return listen({
    address,
    role: "watchdog",
    id: 0,
    handle(request) {
      throw new RequestError("unknown_op", `the watchdog answers no "${request.op}" requests yet`);
    },
    onControl(message, conn) {
      if (message.kind !== "ready" || conn.remote === null) return;
      const child = byIdentity.get(`${conn.remote.role}:${conn.remote.id}`);
      const pid = (message.data as { pid?: unknown } | undefined)?.pid;
      if (child && typeof pid === "number") child.markReady(pid);
    },
    onProblem: (text) => log.warn(`Control socket: ${text}`),
  });
}
