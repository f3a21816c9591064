import { type NetError, RequestError } from "@switchyard/net";
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
 * answered with are passed through, not retried. One promise per request: the attempts themselves
 * run on callbacks, because this is every hop's hot path.
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
  return new Promise((resolve, reject) => {
    const deadline = performance.now() + budgetMs;
    let candidates = pool;
    let previous: { upstream: Upstream; error: NetError } | undefined;
    const attempt = (): void => {
      const upstream = policy.select(candidates, key);
      if (upstream === undefined) {
        const why = previous ? `; last attempt: ${previous.upstream.label}: ${previous.error.message}` : "";
        reject(new RequestError("unavailable", `no upstream available${why}`));
        return;
      }
      hooks.onAttempt(upstream, previous);
      try {
        upstream.peer.call(op, body, attemptBudget(candidates.length, deadline), key, (error, answer) => {
          if (error === undefined) return resolve(answer);
          if (!error.retryable) return reject(error);
          if (deadline - performance.now() <= 0) return reject(new RequestError("timeout", `deadline passed (${error.message})`));
          previous = { upstream, error };
          candidates = candidates.filter((u) => u !== upstream);
          attempt();
        });
      } catch (error) {
        reject(error); // A body MessagePack cannot carry: no upstream would take it.
      }
    };
    attempt();
  });
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
