import { type Address, type Connection, type Listener, RequestError, listen } from "@switchyard/net";
import type { Logger } from "@switchyard/log";
import type { SupervisedChild } from "./child.ts";
import type { ChildSpec } from "./plan.ts";

export interface ControlSocket {
  readonly listener: Listener;
  /**
   * Tells the load balancer and the proxies at once that a member died or serves again, so a dead
   * process leaves rotation in milliseconds instead of at the next health check.
   */
  announce(spec: ChildSpec, alive: boolean): void;
  close(): void;
}

/** The roles that route to other members and so want to hear of their deaths. */
const ROUTERS = new Set(["load_balancer", "reverse_proxy"]);

/**
 * The watchdog's control socket. Every child connects to it when it starts: it reports `ready`
 * here, and it exits when this connection closes, so children never outlive their watchdog.
 */
export async function listenForChildren(address: Address, children: readonly SupervisedChild[], log: Logger): Promise<ControlSocket> {
  const byIdentity = new Map(children.map((child) => [`${child.spec.role}:${child.spec.id}`, child]));
  const routers = new Set<Connection>();
  const listener = await listen({
    address,
    role: "watchdog",
    id: 0,
    handle(request) {
      throw new RequestError("unknown_op", `the watchdog answers no "${request.op}" requests yet`);
    },
    onHello(remote, conn) {
      if (ROUTERS.has(remote.role)) routers.add(conn);
    },
    onClose(conn) {
      routers.delete(conn);
    },
    onControl(message, conn) {
      if (message.kind !== "ready" || conn.remote === null) return;
      const child = byIdentity.get(`${conn.remote.role}:${conn.remote.id}`);
      const pid = (message.data as { pid?: unknown } | undefined)?.pid;
      if (child && typeof pid === "number") child.markReady(pid);
    },
    onProblem: (text) => log.warn(`Control socket: ${text}`),
  });
  return {
    listener,
    announce(spec, alive) {
      for (const conn of routers) conn.send({ t: "ctl", kind: "member", data: { role: spec.role, id: spec.id, alive } });
    },
    close() {
      listener.close();
    },
  };
}
