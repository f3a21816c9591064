/** Active health checking of an upstream, as HAProxy does it: interval, timeout, rise and fall. */
export interface HealthOptions {
  /** Between two checks, ms; 0 turns active checks off (connection state and passive checks remain). */
  intervalMs: number;
  /** A check not answered within this many ms fails. */
  timeoutMs: number;
  /** Consecutive passed checks that bring an upstream that failed its checks back. */
  rise: number;
  /** Consecutive failed checks that take an upstream out of rotation. */
  fall: number;
  /** Each interval varies by up to ± this fraction, so the checks of many hops do not fall in step. */
  jitter: number;
  /** Also check after this many requests were sent to the upstream since the last check; 0: off. */
  every: number;
}

/** A hung upstream is out within intervalMs × fall + timeoutMs = 2.5 s; a dead one at once (its connection drops). */
export const DEFAULT_HEALTH: HealthOptions = { intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 2, jitter: 0.1, every: 0 };

export type HealthChange = "up" | "down" | undefined;

/** The rise/fall counting, on its own so it is tested without sockets or clocks. */
export class HealthState {
  private healthyValue = true;
  private passes = 0;
  private fails = 0;

  constructor(
    private readonly rise: number,
    private readonly fall: number,
  ) {}

  get healthy(): boolean {
    return this.healthyValue;
  }

  /** A check was answered. */
  pass(): HealthChange {
    this.fails = 0;
    if (this.healthyValue) return undefined;
    if (++this.passes < this.rise) return undefined;
    return this.set(true);
  }

  /** A check failed. */
  fail(): HealthChange {
    this.passes = 0;
    if (!this.healthyValue) return undefined;
    if (++this.fails < this.fall) return undefined;
    return this.set(false);
  }

  /** Passive: a request timed out on it. Out at once; checks bring it back. */
  failNow(): HealthChange {
    this.passes = 0;
    return this.healthyValue ? this.set(false) : undefined;
  }

  /** A new connection answered its hello: a fresh process, healthy until checks say otherwise. */
  reset(): HealthChange {
    this.passes = 0;
    this.fails = 0;
    return this.healthyValue ? undefined : this.set(true);
  }

  private set(healthy: boolean): HealthChange {
    this.healthyValue = healthy;
    this.passes = 0;
    this.fails = 0;
    return healthy ? "up" : "down";
  }
}

/** The next check's delay: the interval ± jitter. */
export function nextCheckDelay(options: HealthOptions, random: () => number): number {
  return Math.max(1, options.intervalMs * (1 + options.jitter * (2 * random() - 1)));
}
