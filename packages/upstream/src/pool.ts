import type { Logger } from "@switchyard/log";
import { type Address, formatAddress } from "@switchyard/net";
import { Admission } from "./admission.ts";
import { DEFAULT_HEALTH, type HealthOptions } from "./health.ts";
import { PoolMember, type Upstream } from "./member.ts";

export interface PoolOptions {
  upstreams: ReadonlyArray<{ n: number; address: Address }>;
  /** "Server #4", "Proxy #1". */
  label(n: number): string;
  /** Our side of the hello exchange. */
  role: string;
  id: number;
  log: Logger;
  health?: HealthOptions;
  /** Requests each upstream may have in flight from this hop (0: no limit), and how many may wait for a slot. */
  limits?: { maxInflight: number; maxQueue: number };
  /** For the jitter of health checks; injected in tests. */
  random?: () => number;
}

export interface Pool {
  /** Every configured upstream in order of n, available or not (what policies choose from). */
  readonly members: readonly Upstream[];
  /** The queue for a free slot, when upstreams have an in-flight limit. */
  readonly admission: Admission | undefined;
  /** Resolves once every member's first connection attempt has ended (open or down), or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void>;
  /** The watchdog saw upstream n exit (`false`) or serve again (`true`). */
  reportedByWatchdog(n: number, alive: boolean): void;
  /** A new upstream joins (the watchdog added a replica); one already there with that n is left alone. */
  add(n: number, address: Address): void;
  /**
   * Upstream n leaves: no new request goes to it from now on, and its connection closes once the
   * requests in flight to it are answered (or after `drainMs`). Resolves then.
   */
  remove(n: number, drainMs?: number): Promise<void>;
  close(): void;
}

/** How long a removed upstream may take to answer what it has in flight before its connection is closed. */
const REMOVE_DRAIN_MS = 30_000;
const IDLE_POLL_MS = 20;

/** Opens one persistent connection per upstream, checks their health, and logs every change once. */
export function createPool(options: PoolOptions): Pool {
  let unsettled = options.upstreams.length;
  const { promise: allSettled, resolve: settle } = Promise.withResolvers<void>();
  if (unsettled === 0) settle();
  const member = (n: number, address: Address, onSettled: () => void) =>
    new PoolMember({
      n,
      address,
      label: options.label(n),
      role: options.role,
      id: options.id,
      log: options.log,
      health: options.health ?? DEFAULT_HEALTH,
      maxInflight: options.limits?.maxInflight ?? 0,
      random: options.random ?? Math.random,
      onSettled,
    });
  const startupSettled = () => {
    if (--unsettled === 0) settle();
  };
  // Replaced, never mutated, on a change: a request being routed keeps the list it started with.
  let members: PoolMember[] = [...options.upstreams].sort((a, b) => a.n - b.n).map(({ n, address }) => member(n, address, startupSettled));
  const closing = new Set<PoolMember>();
  const limits = options.limits;
  return {
    get members() {
      return members;
    },
    admission: limits && limits.maxInflight > 0 ? new Admission(limits.maxInflight, limits.maxQueue) : undefined,
    settled(timeoutMs) {
      let timer: Timer | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      return Promise.race([allSettled, timeout]).finally(() => clearTimeout(timer));
    },
    reportedByWatchdog(n, alive) {
      members.find((m) => m.n === n)?.reportedByWatchdog(alive);
    },
    add(n, address) {
      if (members.some((m) => m.n === n)) return;
      options.log.info(`${options.label(n)} joins (${formatAddress(address)})`);
      members = [...members, member(n, address, () => {})].sort((a, b) => a.n - b.n);
    },
    async remove(n, drainMs = REMOVE_DRAIN_MS) {
      const leaving = members.find((m) => m.n === n);
      if (leaving === undefined) return;
      members = members.filter((m) => m !== leaving);
      closing.add(leaving);
      const inflight = leaving.inflight;
      options.log.info(`${leaving.label} leaves${inflight > 0 ? ` (finishing ${inflight} requests in flight)` : ""}`);
      const deadline = performance.now() + drainMs;
      while (leaving.inflight > 0 && performance.now() < deadline && closing.has(leaving)) await Bun.sleep(IDLE_POLL_MS);
      closing.delete(leaving);
      leaving.close();
    },
    close() {
      for (const m of [...members, ...closing]) m.close();
      closing.clear();
    },
  };
}
