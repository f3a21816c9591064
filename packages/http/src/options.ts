import type { OriginOptions } from "./types.ts";

export type ResolvedOriginOptions = Required<OriginOptions>;

/** Every default in one place (documented on OriginOptions). */
export function resolveOriginOptions(options: OriginOptions): ResolvedOriginOptions {
  return {
    url: options.url,
    maxConnections: options.maxConnections ?? 256,
    maxIdle: options.maxIdle ?? 64,
    idleTimeoutMs: options.idleTimeoutMs ?? 15_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 2000,
  };
}

/** Throws RangeError on limits that cannot work (a programming error, not an upstream failure). */
export function validateOriginOptions(options: ResolvedOriginOptions): void {
  const positive = (name: string, value: number, min: number) => {
    if (!Number.isFinite(value) || value < min) throw new RangeError(`${name} must be a number >= ${min}, got ${value}`);
  };
  positive("maxConnections", options.maxConnections, 1);
  positive("maxIdle", options.maxIdle, 0);
  positive("idleTimeoutMs", options.idleTimeoutMs, 1);
  positive("connectTimeoutMs", options.connectTimeoutMs, 1);
}
