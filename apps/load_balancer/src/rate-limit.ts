/** One token bucket per client: `rate` tokens a second, at most `burst` saved up; a request takes one. */
export interface RateLimit {
  /** Requests per second, on average. */
  rate: number;
  /** Requests a client may send at once after being quiet. */
  burst: number;
}

export interface RateLimiter {
  /** Takes a token for `key`: 0 when the request may go, else the milliseconds until it could. */
  take(key: string | number, now?: number): number;
  readonly clients: number;
}

/** Buckets kept before the full ones (quiet clients, whose bucket is as good as new) are dropped. */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets, refilled lazily when a client next asks (no timer per client). Memory is bounded:
 * past MAX_BUCKETS clients, every bucket that has refilled to `burst` is dropped, which changes
 * nothing for its client (a new bucket starts full).
 */
export function createRateLimiter({ rate, burst }: RateLimit): RateLimiter {
  const buckets = new Map<string | number, Bucket>();
  const refill = (bucket: Bucket, now: number) => {
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * rate);
    bucket.at = now;
  };
  const prune = (now: number) => {
    for (const [key, bucket] of buckets) {
      refill(bucket, now);
      if (bucket.tokens >= burst) buckets.delete(key);
    }
  };
  return {
    get clients() {
      return buckets.size;
    },
    take(key, now = performance.now()) {
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= MAX_BUCKETS) prune(now);
        bucket = { tokens: burst, at: now };
        buckets.set(key, bucket);
      } else {
        refill(bucket, now);
      }
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return 0;
      }
      return Math.ceil(((1 - bucket.tokens) / rate) * 1000);
    },
  };
}

/** "10" or "10/s", "600/m", "36000/h": requests per second. */
export function parseRate(raw: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*(s|sec|second|m|min|minute|h|hour))?\s*$/i.exec(raw);
  if (match === null) return undefined;
  const per = (match[2] ?? "s").toLowerCase()[0];
  const value = Number(match[1]) / (per === "m" ? 60 : per === "h" ? 3600 : 1);
  return value > 0 ? value : undefined;
}

/** Without a burst given: a second's worth of requests, at least one. */
export function defaultBurst(rate: number): number {
  return Math.max(1, Math.ceil(rate));
}
