import { HttpClientError, type UpstreamResponse, stripHopByHop } from "@switchyard/http";
import { type HeaderPair, type HttpExchangeRequest, type HttpExchangeResponse, type HttpReply, INLINE_BODY, isIdempotentMethod, jsonAnswer } from "../http-exchange.ts";
import { MAX_ATTEMPTS } from "../forward.ts";
import type { Policy } from "../policy.ts";
import type { ExternalMember } from "./member.ts";


export interface ExternalForwardHooks {
  onAttempt(member: ExternalMember, previous?: { member: ExternalMember; error: HttpClientError }): void;
  /** The request failed for good: the client gets `status` and a message without the upstream's address, this gets the details. */
  onFailed?(status: number, detail: string): void;
}


/**
 * Forwards one HTTP request to an external upstream chosen by the policy, as nginx's proxy_pass with
 * proxy_next_upstream does: a connection that could not be made is retried on another upstream
 * (at most MAX_ATTEMPTS in all); a request that may have reached the upstream is retried only when
 * its method is idempotent and its body can be sent again. Failures become the statuses a proxy
 * answers: 502 (unreachable or broken answer), 503 (none available), 504 (no answer in time), with
 * messages that do not name the upstream (`hooks.onFailed` gets the details, for the log).
 */
export async function forwardExternal(
  pool: readonly ExternalMember[],
  policy: Policy,
  key: number,
  request: HttpExchangeRequest,
  stream: ReadableStream<Uint8Array> | undefined,
  timeoutMs: number,
  hooks: ExternalForwardHooks,
): Promise<HttpReply> {
  const deadline = performance.now() + timeoutMs;
  const replayable = stream === undefined && isIdempotentMethod(request.method);
  // Made on a retry only: most requests succeed at the first attempt.
  let tried: Set<ExternalMember> | undefined;
  let previous: { member: ExternalMember; error: HttpClientError } | undefined;
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const member = policy.select(tried === undefined ? (pool as ExternalMember[]) : withoutTried(pool, tried), key);
    if (member === undefined) break;
    hooks.onAttempt(member, previous);
    member.counts.requests++;
    if (previous !== undefined) member.counts.retries++;
    (tried ??= new Set()).add(member);
    try {
      const response = await member.origin.request({
        method: request.method,
        target: request.target,
        headers: request.headers,
        body: stream ?? request.body ?? null,
        timeoutMs: Math.max(1, deadline - performance.now()),
      });
      return response.bytes !== undefined ? inlineAnswer(response, response.bytes) : await answerOf(response);
    } catch (error) {
      if (!(error instanceof HttpClientError)) throw error;
      member.failed(error);
      previous = { member, error };
      const again = !error.sent || (replayable && error.code !== "timeout");
      if (!again || performance.now() >= deadline) break;
    }
  }
  // The client is told what happened, never where: upstream addresses stay in the log (issue: backend identities hidden).
  if (previous === undefined) {
    hooks.onFailed?.(503, "no upstream available");
    return { response: jsonAnswer(503, "<Error> no upstream available") };
  }
  const { member, error } = previous;
  if (error.code === "timeout") {
    hooks.onFailed?.(504, `${member.label} did not answer in time`);
    return { response: jsonAnswer(504, "<Error> the upstream did not answer in time") };
  }
  hooks.onFailed?.(502, error.message.startsWith(member.label) ? error.message : `${member.label}: ${error.message}`);
  return { response: jsonAnswer(502, "<Error> bad gateway: the upstream could not be reached or its answer was broken") };
}

/** A small answer the client has already read whole: it travels inline (without a promise of its own). */
function inlineAnswer(response: UpstreamResponse, bytes: Uint8Array): HttpReply {
  const headers = (stripHopByHop(response.headers) as HeaderPair[]).filter(([name]) => name !== "content-length");
  return { response: bytes.length > 0 ? { status: response.status, headers, body: bytes } : { status: response.status, headers } };
}

async function answerOf(response: UpstreamResponse): Promise<HttpReply> {
  const kept = stripHopByHop(response.headers) as HeaderPair[];
  // Without a body (HEAD, 304) the length describes the resource and passes on; so it does with a
  // stream, which the front door sends with that length (and cuts off if the upstream's is short).
  if (response.body === null) return { response: { status: response.status, headers: kept } };
  if (response.contentLength !== undefined && response.contentLength <= INLINE_BODY) {
    const head: HttpExchangeResponse = { status: response.status, headers: kept.filter(([name]) => name !== "content-length") };
    head.body = new Uint8Array(await new Response(response.body).arrayBuffer());
    return { response: head };
  }
  return { response: { status: response.status, headers: kept }, stream: response.body };
}

/** The pool with the upstreams already tried looking unavailable, each in its place (a hash keeps its ring). */
function withoutTried(pool: readonly ExternalMember[], tried: ReadonlySet<ExternalMember>): ExternalMember[] {
  return pool.map((m) => (tried.has(m) ? (Object.create(m, { available: { value: false } }) as ExternalMember) : m));
}
