import type { Logger } from "@switchyard/log";
import { RequestError } from "@switchyard/net";
import type { ChildState } from "./child.ts";
import { type Fleet, type RouterId, type ServerSlot, routerLabel, routerOf, slotLabel } from "./fleet.ts";
import type { ChildSpec } from "./plan.ts";
import type { UpstreamNews } from "./router-sync.ts";

/** One server as `fleet.rep` (and the load balancer's /rep) shows it. */
export interface Replica {
  name: string;
  n: number;
  /** Owning reverse proxy k; 0 in the flat topology. */
  proxy: number;
  /** null while it is not running (dead, not yet spawned). */
  pid: number | null;
  state: ChildState;
  /** Where it listens. */
  address: string;
  /** Re-creations after deaths. */
  restarts: number;
}

/** What the fleet needs of a supervised server: SupervisedChild, or a fake in tests. */
export interface ServerChild {
  readonly spec: ChildSpec;
  readonly ready: boolean;
  readonly state: ChildState;
  readonly runningPid: number | null;
  readonly restarts: number;
  readonly failure: string | null;
  /** Resolves when it is ready, given up on, or being stopped. */
  start(): Promise<void>;
  stop(timeoutMs: number): Promise<void>;
}

export interface FleetControlOptions<C extends ServerChild> {
  fleet: Fleet;
  log: Logger;
  /** How long /add waits for a new server to report ready. */
  readyTimeoutMs: number;
  /** Drain time of a removed server after SIGTERM, as at shutdown. */
  stopTimeoutMs: number;
  rand?: () => number;
  address(n: number): string;
  /** Makes (does not start) the supervised process of a server. */
  createChild(slot: ServerSlot): C;
  /** Upstream news for a router (delivered now, or when it connects). */
  tell(router: RouterId, news: UpstreamNews): void;
}

export interface FleetControl<C extends ServerChild> {
  /** The servers' children in fleet order. */
  children(): C[];
  /** Changes are accepted from now on (the fleet is ready). */
  open(): void;
  /** Changes are refused from now on (the fleet is shutting down). */
  close(): void;
  replicas(): Replica[];
  /** A control-socket request: `fleet.rep`, `fleet.add` or `fleet.rm`. Throws RequestError to refuse. */
  handle(op: string, body: unknown): unknown;
}

/**
 * The live server fleet: /rep, /add and /rm as the load balancer forwards them. Changes run one at
 * a time, each validated against the fleet as the previous one left it; the routers hear of a new
 * server once it is ready and of a removed one before it is stopped, so no request meets a
 * server that is not serving.
 */
export function createFleetControl<C extends ServerChild>(options: FleetControlOptions<C>): FleetControl<C> {
  const { fleet, log, readyTimeoutMs, stopTimeoutMs, address, tell } = options;
  const rand = options.rand ?? Math.random;
  const children = new Map<number, C>();
  for (const slot of fleet.list()) children.set(slot.n, options.createChild(slot));
  let state: "starting" | "open" | "closed" = "starting";
  let queue: Promise<unknown> = Promise.resolve();

  const serialize = <T>(work: () => Promise<T>): Promise<T> => {
    const result = queue.then(work);
    queue = result.catch(() => undefined);
    return result;
  };

  const guard = () => {
    if (state === "starting") throw new RequestError("unavailable", "<Error> the fleet is still starting; try again when it is ready");
    if (state === "closed") throw new RequestError("shutting_down", "<Error> the fleet is shutting down");
  };

  const forget = (n: number) => {
    fleet.delete(n);
    children.delete(n);
  };

  const replicas = (): Replica[] =>
    fleet.list().map((slot) => {
      const child = children.get(slot.n);
      return {
        name: slot.name,
        n: slot.n,
        proxy: slot.proxy,
        pid: child?.runningPid ?? null,
        state: slot.membership === "leaving" ? "stopping" : (child?.state ?? "starting"),
        address: address(slot.n),
        restarts: child?.restarts ?? 0,
      };
    });

  /** null when the server serves and its router was told; otherwise why it was given up on. */
  const startOne = async (slot: ServerSlot): Promise<string | null> => {
    const child = children.get(slot.n)!;
    let timer: Timer | undefined;
    await Promise.race([child.start(), new Promise<void>((resolve) => (timer = setTimeout(resolve, readyTimeoutMs)))]);
    clearTimeout(timer);
    if (state === "closed") return null;
    if (child.ready) {
      fleet.setMembership(slot.n, "member");
      tell(routerOf(slot), { add: [{ n: slot.n, address: address(slot.n) }] });
      return null;
    }
    const why = child.failure ?? `not ready within ${readyTimeoutMs} ms`;
    log.error(`${slotLabel(slot)} did not start (${why}). Giving up on it.`);
    await child.stop(stopTimeoutMs);
    forget(slot.n);
    return `${slotLabel(slot)} did not start (${why})`;
  };

  const add = async (body: unknown) => {
    guard();
    const slots = fleet.planAdd(body, rand);
    fleet.insert(slots);
    for (const slot of slots) {
      children.set(slot.n, options.createChild(slot));
      log.info(`Adding ${slotLabel(slot)}${slot.proxy === 0 ? "" : ` under ${routerLabel(routerOf(slot))}`}`);
    }
    const failures = (await Promise.all(slots.map(startOne))).filter((why) => why !== null);
    guard();
    if (failures.length > 0) {
      const added = slots.length - failures.length;
      throw new RequestError(
        "start_failed",
        `<Error> ${failures.join("; ")}. ${added} of ${slots.length} new servers were added; the fleet has ${fleet.list().length} servers`,
      );
    }
    return { replicas: replicas() };
  };

  const remove = async (body: unknown) => {
    guard();
    const slots = fleet.planRemove(body, rand);
    for (const slot of slots) {
      log.info(`Removing ${slotLabel(slot)}`);
      fleet.setMembership(slot.n, "leaving");
      // The router drains it (no new requests, in-flight ones finish) before it is asked to exit.
      tell(routerOf(slot), { remove: [slot.n] });
    }
    await Promise.all(slots.map((slot) => children.get(slot.n)?.stop(stopTimeoutMs)));
    for (const slot of slots) forget(slot.n);
    return { replicas: replicas() };
  };

  return {
    children: () => fleet.list().flatMap((slot) => children.get(slot.n) ?? []),
    open() {
      if (state === "starting") state = "open";
    },
    close() {
      state = "closed";
    },
    replicas,
    handle(op, body) {
      switch (op) {
        case "fleet.rep":
          return { replicas: replicas() };
        case "fleet.add":
          return serialize(() => add(body));
        case "fleet.rm":
          return serialize(() => remove(body));
        default:
          throw new RequestError("unknown_op", `the watchdog answers fleet.rep, fleet.add and fleet.rm, not "${op}"`);
      }
    },
  };
}
