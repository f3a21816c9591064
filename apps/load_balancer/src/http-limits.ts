import { parseInteger, parseMillis } from "@switchyard/cli";
import type { HttpServerLimits } from "@switchyard/http";

/** The front door's protection flags (README: "Limits of the front door"). */
export const httpLimitArgs = {
  "max-connections": { type: "string", valueHint: "n", description: "HTTP connections open at once; one more is answered 503 and closed; 0: no limit (default 0)" },
  "max-body-bytes": { type: "string", valueHint: "bytes", description: "Largest request body; larger is answered 413; 0: no limit (default 0)" },
  "max-header-bytes": { type: "string", valueHint: "bytes", description: "Largest request head (request line and headers); larger is answered 431 (default 65536)" },
  "header-timeout-ms": { type: "string", valueHint: "ms", description: "A request head must arrive within this once it started, else 408 (default 10000)" },
  "body-timeout-ms": { type: "string", valueHint: "ms", description: "A request body, or a client reading its answer, may stall this long (default 30000)" },
  "idle-timeout-ms": { type: "string", valueHint: "ms", description: "An idle keep-alive connection is closed after this (default 60000)" },
} as const;

export type HttpLimitArgs = { [K in keyof typeof httpLimitArgs]?: string };

/** The limits given; the server's defaults (DEFAULT_LIMITS) for the rest. 0 means "no limit" for the counts. */
export function resolveHttpLimits(args: HttpLimitArgs): Partial<HttpServerLimits> {
  const unlimitedIfZero = (value: number) => (value === 0 ? Number.POSITIVE_INFINITY : value);
  const limits: Partial<HttpServerLimits> = {};
  if (args["max-connections"] !== undefined) limits.maxConnections = unlimitedIfZero(parseInteger("--max-connections", args["max-connections"], 0));
  if (args["max-body-bytes"] !== undefined) limits.maxBodyBytes = unlimitedIfZero(parseInteger("--max-body-bytes", args["max-body-bytes"], 0));
  if (args["max-header-bytes"] !== undefined) limits.maxHeadBytes = parseInteger("--max-header-bytes", args["max-header-bytes"], 1024, 16 * 1024 * 1024);
  const millis = (flag: keyof HttpLimitArgs, key: "headerTimeoutMs" | "bodyTimeoutMs" | "idleTimeoutMs") => {
    const raw = args[flag];
    if (raw === undefined) return;
    limits[key] = Math.max(1, parseMillis(`--${flag}`, raw));
  };
  millis("header-timeout-ms", "headerTimeoutMs");
  millis("body-timeout-ms", "bodyTimeoutMs");
  millis("idle-timeout-ms", "idleTimeoutMs");
  return limits;
}

