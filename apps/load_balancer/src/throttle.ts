import type { IncomingRequest } from "@switchyard/http";
import { pathOf } from "@switchyard/upstream";
import { type RateLimit, createRateLimiter } from "./rate-limit.ts";
import { type RouteRule, matchRule } from "./routing.ts";

/** Milliseconds until the request could be admitted: 0 now. */
export type Throttle = (request: IncomingRequest) => number;

/**
 * The HTTP rate limits, per client address: `--rate-limit` for every routed request, and each
 * route's own `rate-limit` for the requests it matches (both must admit). Undefined when no limit
 * is set, so the front door checks nothing.
 */
export function createThrottle(global: RateLimit | undefined, rules: readonly RouteRule[]): Throttle | undefined {
  const all = global === undefined ? undefined : createRateLimiter(global);
  const perRoute = new Map(rules.flatMap((rule) => (rule.limit === undefined ? [] : [[rule, createRateLimiter(rule.limit)] as const])));
  if (all === undefined && perRoute.size === 0) return undefined;
  return (request) => {
    const wait = all?.take(request.address) ?? 0;
    if (wait > 0 || perRoute.size === 0) return wait;
    const rule = matchRule(rules, request.method, pathOf(request.target), request.headers);
    return (rule && perRoute.get(rule)?.take(request.address)) ?? 0;
  };
}
