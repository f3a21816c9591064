import type { Logger } from "@switchyard/log";
import type { Address } from "@switchyard/net";
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
  close(): void;
}

/** Opens one persistent connection per upstream, checks their health, and logs every change once. */
export function createPool(options: PoolOptions): Pool {
  let unsettled = options.upstreams.length;
  const { promise: allSettled, resolve: settle } = Promise.withResolvers<void>();
  if (unsettled === 0) settle();
  const members = [...options.upstreams]
    .sort((a, b) => a.n - b.n)
    .map(
      ({ n, address }) =>
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
          onSettled: () => {
            if (--unsettled === 0) settle();
          },
        }),
    );
  const limits = options.limits;
  return {
    members,
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
    close() {
      for (const member of members) member.close();
    },
  };
}
