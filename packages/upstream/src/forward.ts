import { NetError, RequestError } from "@switchyard/net";
import type { Admission } from "./admission.ts";
import type { Policy } from "./policy.ts";
import type { Upstream } from "./member.ts";

export interface ForwardHooks {
  /** What the upstreams are, for errors: "no reverse proxy available". */
  readonly noun: string;
  /**
   * The request may be sent twice without harm (sqrt, reads; a write with an idempotency key).
   * Otherwise it is retried only when it surely never reached a handler. Default: true.
   */
  readonly idempotent?: boolean;
  /** With in-flight limits: where a request waits when every live upstream is full. */
  readonly admission?: Admission | undefined;
  /**
   * The rest of the request's body, streamed after `body` (DESIGN §3). Once an upstream has started
   * reading it, it cannot be given to another: such a request is retried only when it was never sent.
   */
  readonly stream?: ReadableStream<Uint8Array> | undefined;
  /** Called before each attempt; `previous` is set when this attempt is a retry after that failure. */
  onAttempt(upstream: Upstream, previous?: { upstream: Upstream; error: NetError }): void;
}

/** Operations that may be sent twice without harm; others are retried only when surely not handled. */
const IDEMPOTENT_OPS = new Set(["sqrt"]);

export function isIdempotent(op: string): boolean {
  return IDEMPOTENT_OPS.has(op);
}

/** No attempt gets less than this, however little budget is left for retries. */
const MIN_ATTEMPT_MS = 50;
/** The first try and at most two retries, each on an upstream not tried yet (as Envoy's default retry budget). */
export const MAX_ATTEMPTS = 3;

/**
 * Sends one idempotent request to the upstream the policy picks; when the attempt fails on the way
 * (refused, reset, timed out, draining), tries the next pick among the upstreams not yet tried,
 * at most MAX_ATTEMPTS in all, within the caller's time budget. An attempt gets half of what is left while another upstream
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
  if (upstream === undefined) {
    const admission = hooks.admission;
    if (admission !== undefined && pool.some((u) => u.alive)) {
      // Every live upstream is at its limit: wait for a slot, then choose again.
      return admission.wait(deadline, hooks.noun).then(() => forward(pool, policy, key, op, body, deadline - performance.now(), hooks));
    }
    return Promise.reject(new RequestError("unavailable", `no ${hooks.noun} available`));
  }
  hooks.onAttempt(upstream);
  upstream.sent();
  // The first attempt needs no async machinery: most requests succeed on it.
  return upstream.peer
    .request(op, body, attemptBudget(pool.length, deadline), key, hooks.stream)
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
  const tried = new Set<Upstream>();
  let last = failure;
  for (let attempt = 2; ; attempt++) {
    const { error } = last;
    last.upstream.failed(error);
    if (!(error instanceof NetError) || !error.retryable) throw error;
    if (hooks.idempotent === false && !neverHandled(error)) throw error;
    // Only "unavailable" says the body stream was never touched (the peer reads it once connected).
    if (hooks.stream !== undefined && error.code !== "unavailable") throw error;
    tried.add(last.upstream);
    if (attempt > MAX_ATTEMPTS) throw new RequestError("unavailable", `${MAX_ATTEMPTS} attempts failed; last: ${last.upstream.label}: ${error.message}`);
    if (deadline - performance.now() <= 0) throw new RequestError("timeout", `deadline passed (${error.message})`);
    const upstream = policy.select(withoutTried(pool, tried), key);
    if (upstream === undefined) {
      throw new RequestError("unavailable", `no ${hooks.noun} available; last attempt: ${last.upstream.label}: ${error.message}`);
    }
    hooks.onAttempt(upstream, { upstream: last.upstream, error });
    upstream.sent(true);
    try {
      return await upstream.peer.request(op, body, attemptBudget(Math.min(MAX_ATTEMPTS - attempt + 1, pool.length - tried.size), deadline), key, hooks.stream);
    } catch (next) {
      last = { upstream, error: next };
    }
  }
}

/**
 * The upstream did not run the request: it was never sent (not connected), or the upstream refused
 * it before handling (draining, overloaded, nothing behind it). A lost connection or a timeout may
 * have come after the handler ran.
 */
function neverHandled(error: NetError): boolean {
  return error.code === "unavailable" || (error.code === "remote" && error.retryable);
}

/**
 * The pool as the policy must see it for a retry: the same members in the same places (a hashing
 * policy keeps its ring), with those already tried looking unavailable.
 */
function withoutTried(pool: readonly Upstream[], tried: ReadonlySet<Upstream>): Upstream[] {
  return pool.map((u) => (tried.has(u) ? (Object.create(u, { available: { value: false } }) as Upstream) : u));
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
