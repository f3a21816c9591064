export interface RestartPolicyOptions {
  /** Restarts within this window count towards a crash loop. */
  windowMs: number;
  /** More restarts than this within the window start the backoff. */
  maxRestarts: number;
  initialDelayMs: number;
  maxDelayMs: number;
  now?: () => number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicyOptions = { windowMs: 10_000, maxRestarts: 5, initialDelayMs: 1000, maxDelayMs: 15_000 };

/**
 * PM2-style crash-loop protection: a child that dies is restarted at once, unless it already
 * restarted `maxRestarts` times within `windowMs`; then each further restart waits twice as
 * long as the last (1 s, 2 s, 4 s … capped), until it stays up for a whole window.
 */
export function createRestartPolicy(options: RestartPolicyOptions = DEFAULT_RESTART_POLICY) {
  const now = options.now ?? (() => performance.now());
  let restarts: number[] = [];
  let delay = 0;
  let lastStart: number | undefined;
  return {
    /** Called when the child died: the delay before restarting it (0 = now) and the restarts within the window. */
    next(): { delayMs: number; recent: number } {
      const t = now();
      if (lastStart !== undefined && t - lastStart >= options.windowMs) {
        // It stayed up for a whole window: forgive its past.
        restarts = [];
        delay = 0;
      }
      restarts = restarts.filter((at) => t - at < options.windowMs);
      restarts.push(t);
      if (delay > 0 || restarts.length > options.maxRestarts) {
        delay = delay === 0 ? options.initialDelayMs : Math.min(options.maxDelayMs, delay * 2);
      }
      lastStart = t + delay;
      return { delayMs: delay, recent: restarts.length };
    },
  };
}
