import type { Logger } from "@switchyard/log";
import { type Control, HOP_STATS_OP, type HopStats } from "@switchyard/wire";
import { type Address, type Listener, type RequestHandler, listen, parseAddress } from "@switchyard/net";
import type { HealthOptions } from "./health.ts";
import { upstreamStats } from "./hop-stats.ts";
import { type Pool, type PoolOptions, createPool } from "./pool.ts";

/** A hop between clients and upstreams: the load balancer (to proxies) or a reverse proxy (to servers). */
export interface Tier {
  readonly listener: Listener;
  readonly pool: Pool;
  /** What the hop did with each upstream (also the answer to the `hop.stats` op, which the watchdog's status asks). */
  stats(): HopStats;
  /** Stops taking requests, finishes the ones in flight (up to `timeoutMs`), then closes everything. */
  drain(timeoutMs: number): Promise<void>;
  /**
   * The watchdog's news: `member` {role, id, alive} takes a dead upstream out of rotation at once;
   * `upstreams` {add: [{n, address}], remove: [n]} changes the membership (live /add and /rm).
   */
  onWatchdog(message: Control): void;
}

export interface TierOptions {
  listen: Address;
  role: string;
  id: number;
  log: Logger;
  upstreams: PoolOptions["upstreams"];
  label: PoolOptions["label"];
  /** The hello role of the upstreams ("reverse_proxy", "server"), to pick the watchdog's news about them. */
  upstreamRole: string;
  health?: HealthOptions;
  limits?: PoolOptions["limits"];
  /** Answers one request, usually by `forward`ing it to a member of `pool`. */
  handle(pool: Pool): RequestHandler;
  /** Each answered request's op, outcome ("ok" or the error code) and time (see ListenerOptions.onAnswered). */
  onAnswered?(op: string, outcome: string, durationMs: number): void;
  /** What the hop adds to its `hop.stats` answer: other upstreams (external, named pools), its cache, its rate limit. */
  stats?(): Partial<HopStats>;
}

/** How long a new tier waits for its upstreams' first connection attempts before it calls itself ready. */
const SETTLE_MS = 2000;

/** Listens, connects to the upstreams, and resolves once their first connection attempts ended. */
export async function createTier(options: TierOptions): Promise<Tier> {
  const { role, id, log } = options;
  const pool = createPool({
    upstreams: options.upstreams,
    label: options.label,
    role,
    id,
    log,
    ...(options.health ? { health: options.health } : {}),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const stats = (): HopStats => {
    const extra = options.stats?.() ?? {};
    return { ...extra, upstreams: [...upstreamStats("default", pool.members), ...(extra.upstreams ?? [])] };
  };
  const handle = releasingSlots(options.handle(pool), pool);
  let listener: Listener;
  try {
    listener = await listen({
      address: options.listen,
      role,
      id,
      handle: (request, conn) => (request.op === HOP_STATS_OP ? stats() : handle(request, conn)),
      counted: (op) => op !== HOP_STATS_OP,
      onAnswered: options.onAnswered,
      onProblem: (text) => log.warn(text),
      decode: { lazyRequests: true }, // A hop reads a body only when it must; it forwards the bytes.
    });
  } catch (error) {
    pool.close();
    throw error;
  }
  // Ready means every upstream was tried once, not just that we listen: the first requests find them open.
  await pool.settled(SETTLE_MS);
  return {
    listener,
    pool,
    stats,
    onWatchdog(message) {
      if (message.kind === "upstreams") return changeMembership(pool, message.data, log);
      if (message.kind !== "member") return;
      const news = message.data as { role?: unknown; id?: unknown; alive?: unknown } | undefined;
      if (news?.role !== options.upstreamRole || typeof news.id !== "number" || typeof news.alive !== "boolean") return;
      pool.reportedByWatchdog(news.id, news.alive);
    },
    async drain(timeoutMs) {
      listener.goAway("shutting down");
      if (!(await listener.drained(timeoutMs))) {
        log.warn(`${listener.stats().inflight} requests still in flight after ${timeoutMs} ms; closing anyway`);
      }
      listener.close();
      pool.close();
    },
  };
}

/** Applies the watchdog's `upstreams` message: {add?: [{n, address}], remove?: [n]}. */
function changeMembership(pool: Pool, data: unknown, log: Logger): void {
  const change = data as { add?: unknown; remove?: unknown } | undefined;
  for (const entry of Array.isArray(change?.add) ? change.add : []) {
    const { n, address } = (entry ?? {}) as { n?: unknown; address?: unknown };
    if (!Number.isSafeInteger(n) || typeof address !== "string") continue;
    try {
      pool.add(n as number, parseAddress(address));
    } catch (error) {
      log.warn(`The watchdog sent a bad address for #${n}: ${(error as Error).message}`);
    }
  }
  for (const n of Array.isArray(change?.remove) ? change.remove : []) {
    if (Number.isSafeInteger(n)) void pool.remove(n as number);
  }
}

/** With in-flight limits, every finished request lets the longest queued one try again. */
function releasingSlots(handle: RequestHandler, pool: Pool): RequestHandler {
  const admission = pool.admission;
  if (admission === undefined) return handle;
  const release = () => admission.release();
  return (request, conn) => {
    const result = handle(request, conn);
    if (result instanceof Promise) result.finally(release).catch(() => {});
    return result;
  };
}
