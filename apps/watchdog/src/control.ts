import { type Address, type Connection, type Listener, listen } from "@switchyard/net";
import type { Logger } from "@switchyard/log";
import { type RouterId, sameRouter } from "./fleet.ts";
import type { ChildSpec } from "./plan.ts";
import type { UpstreamNews } from "./router-sync.ts";

export interface ControlSocket {
  readonly listener: Listener;
  /**
   * Tells the load balancer and the proxies at once that a member died or serves again, so a dead
   * process leaves rotation in milliseconds instead of at the next health check.
   */
  announce(spec: ChildSpec, alive: boolean): void;
  /** Sends upstream news to one router; false when it is not connected. */
  tell(router: RouterId, news: UpstreamNews): boolean;
  close(): void;
}

/** What a child's `ready` report is handed to (a SupervisedChild). */
export interface ReadyListener {
  markReady(pid: number, data: Record<string, unknown>): void;
}

export interface ControlOptions {
  address: Address;
  log: Logger;
  /** The supervised child with this hello identity, if any. */
  childFor(role: string, id: number): ReadyListener | undefined;
  /** Answers a request of any child (`fleet.rep`, `fleet.add`, `fleet.rm`): throw RequestError to refuse. */
  handle(op: string, body: unknown): unknown;
  /** A router connected (a new process, or one restarted). */
  onRouter?(router: RouterId): void;
}

function routerIdOf(conn: Connection): RouterId | undefined {
  const remote = conn.remote;
  if (remote?.role === "load_balancer" || remote?.role === "reverse_proxy") return { role: remote.role, id: remote.id };
  return undefined;
}

/**
 * The watchdog's control socket. Every child connects to it when it starts: it reports `ready`
 * here, and it exits when this connection closes, so children never outlive their watchdog.
 */
export async function listenForChildren(options: ControlOptions): Promise<ControlSocket> {
  const { log } = options;
  // The roles that route to other members and so want to hear of their deaths and of fleet changes.
  const routers = new Set<Connection>();
  const listener = await listen({
    address: options.address,
    role: "watchdog",
    id: 0,
    handle: (request) => options.handle(request.op, request.body),
    onHello(_remote, conn) {
      const router = routerIdOf(conn);
      if (!router) return;
      routers.add(conn);
      options.onRouter?.(router);
    },
    onClose(conn) {
      routers.delete(conn);
    },
    onControl(message, conn) {
      if (message.kind !== "ready" || conn.remote === null) return;
      const child = options.childFor(conn.remote.role, conn.remote.id);
      const data = typeof message.data === "object" && message.data !== null ? (message.data as Record<string, unknown>) : {};
      const pid = data.pid;
      if (child && typeof pid === "number") child.markReady(pid, data);
    },
    onProblem: (text) => log.warn(`Control socket: ${text}`),
  });
  return {
    listener,
    announce(spec, alive) {
      for (const conn of routers) conn.send({ t: "ctl", kind: "member", data: { role: spec.role, id: spec.id, alive } });
    },
    tell(router, news) {
      let sent = false;
      for (const conn of routers) {
        const remote = routerIdOf(conn);
        if (!remote || !sameRouter(remote, router) || conn.closed) continue;
        conn.send({ t: "ctl", kind: "upstreams", data: news });
        sent = true;
      }
      return sent;
    },
    close() {
      listener.close();
    },
  };
}
