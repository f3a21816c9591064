export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** Injected for tests; defaults to Math.random. */
  random?: () => number;
}

/** Exponential backoff with ±20 % jitter, so a fleet of peers does not reconnect in lockstep. */
export function createBackoff({ initialMs, maxMs, random = Math.random }: BackoffOptions) {
  let attempt = 0;
  return {
    next(): number {
      const base = Math.min(maxMs, initialMs * 2 ** attempt);
      attempt++;
      return Math.round(base * (0.8 + 0.4 * random()));
    },
    reset(): void {
      attempt = 0;
    },
  };
}
