import { NetError, RequestError } from "@switchyard/net";
import type { Policy } from "./policy.ts";
import type { Upstream } from "./pool.ts";

export interface ForwardHooks {
  /** Called before each attempt; `previous` is set when this attempt is a retry after that failure. */
  onAttempt(upstream: Upstream, previous?: { upstream: Upstream; error: NetError }): void;
}

/** No attempt gets less than this, however little budget is left for retries. */
const MIN_ATTEMPT_MS = 50;

/**
 * Sends one idempotent request to the upstream the policy picks; when the attempt fails on the way
 * (refused, reset, timed out, draining), tries the next pick among the upstreams not yet tried,
 * within the caller's time budget. An attempt gets half of what is left while another upstream
 * could still be tried, so a hung upstream costs half the budget, not all of it. Errors a handler
 * answered with are passed through, not retried.
 */
export function forward(
  pool: readonly Upstream[],
  policy: Policy,
  key: number,
  op: string,
  body: unknown,
  budgetMs: number,
  hooks: ForwardHooks,
): Promise<unknown> {
  const deadline = performance.now() + budgetMs;
  const upstream = policy.select(pool, key);
  if (upstream === undefined) return Promise.reject(new RequestError("unavailable", "no upstream available"));
  hooks.onAttempt(upstream);
  // The first attempt needs no async machinery: most requests succeed on it.
  return upstream.peer
    .request(op, body, attemptBudget(pool.length, deadline), key)
    .catch((error: unknown) => retry(pool, policy, key, op, body, deadline, hooks, { upstream, error }));
}

async function retry(
  pool: readonly Upstream[],
  policy: Policy,
  key: number,
  op: string,
  body: unknown,
  deadline: number,
  hooks: ForwardHooks,
  failure: { upstream: Upstream; error: unknown },
): Promise<unknown> {
  let candidates = pool;
  let last = failure;
  for (;;) {
    const { error } = last;
    if (!(error instanceof NetError) || !error.retryable) throw error;
    if (deadline - performance.now() <= 0) throw new RequestError("timeout", `deadline passed (${error.message})`);
    candidates = candidates.filter((u) => u !== last.upstream);
    const upstream = policy.select(candidates, key);
    if (upstream === undefined) {
      throw new RequestError("unavailable", `no upstream available; last attempt: ${last.upstream.label}: ${error.message}`);
    }
    hooks.onAttempt(upstream, { upstream: last.upstream, error });
    try {
      return await upstream.peer.request(op, body, attemptBudget(candidates.length, deadline), key);
    } catch (next) {
      last = { upstream, error: next };
    }
  }
}

function attemptBudget(candidates: number, deadline: number): number {
  const left = deadline - performance.now();
  if (candidates <= 1) return Math.max(1, left);
  return Math.max(Math.min(left, MIN_ATTEMPT_MS), left / 2);
}

/** Budget for the next hop: a little less than ours, so the inner hop times out and answers first. */
export function innerBudget(ttl: number | undefined, fallbackMs: number): number {
  return Math.max(1, (ttl ?? fallbackMs) * 0.95 - 5);
}
