import { NetError, RequestError } from "@switchyard/net";
import type { Policy } from "./policy.ts";
import type { Upstream } from "./pool.ts";

export interface ForwardHooks {
  /** Called before each attempt; `previous` is set when this attempt is a retry after that failure. */
  onAttempt(upstream: Upstream, previous?: { upstream: Upstream; error: NetError }): void;
}

/**
 * Sends one idempotent request to the upstream the policy picks; when the attempt fails on the way
 * (refused, reset, timed out, draining), tries the next pick among the upstreams not yet tried,
 * within the caller's time budget. Errors a handler answered with are passed through, not retried.
 */
export async function forward(
  pool: readonly Upstream[],
  policy: Policy,
  key: number,
  op: string,
  body: unknown,
  budgetMs: number,
  hooks: ForwardHooks,
): Promise<unknown> {
  const deadline = performance.now() + budgetMs;
  let candidates = pool;
  let previous: { upstream: Upstream; error: NetError } | undefined;
  for (;;) {
    const upstream = policy.select(candidates, key);
    if (upstream === undefined) {
      const why = previous ? `; last attempt: ${previous.upstream.label}: ${previous.error.message}` : "";
      throw new RequestError("unavailable", `no upstream available${why}`);
    }
    hooks.onAttempt(upstream, previous);
    try {
      return await upstream.peer.request(op, body, Math.max(1, deadline - performance.now()));
    } catch (error) {
      if (!(error instanceof NetError) || !error.retryable) throw error;
      if (deadline - performance.now() <= 0) throw new RequestError("timeout", `deadline passed (${error.message})`);
      previous = { upstream, error };
      candidates = candidates.filter((u) => u !== upstream);
    }
  }
}

/** Budget for the next hop: a little less than ours, so the inner hop times out and answers first. */
export function innerBudget(ttl: number | undefined, fallbackMs: number): number {
  return Math.max(1, (ttl ?? fallbackMs) * 0.95 - 5);
}
