import { NetError, RequestError } from "@switchyard/net";
import { Counter, Histogram, type Registry } from "prom-client";
import type { AccessLog, RequestRecord } from "./access-log.ts";

export type Protocol = RequestRecord["protocol"];

/** Where one request went, filled in by the router as it tries upstreams (for the access log). */
export interface RouteTrace {
  /** The request's X-Request-Id once the front door has settled it; "-" on the wire. */
  id: string;
  /** The pool it was routed to: "default", "external", a named pool, or "admin". */
  pool: string;
  /** The upstream of the last attempt, undefined until one was tried. */
  upstream: string | undefined;
  /** Attempts after the first. */
  retries: number;
}

/** What the access log says of a request besides its protocol, status and duration. */
export type RequestDetails = Omit<RequestRecord, "protocol" | "status" | "durationMs">;

/** One request's route as the access log names it. */
export function details(trace: RouteTrace, client: string, request: string): RequestDetails {
  return { id: trace.id, client, request, route: trace.pool, upstream: trace.upstream ?? "-", retries: trace.retries };
}

export interface TrafficTotals {
  requests: number;
  /** HTTP: answers with a 5xx status; wire: error answers. */
  errors: number;
  inflight: number;
}

/** Latency buckets in seconds: from half a millisecond (a cache hit) to the 8 s request budget and past it. */
const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * Everything the load balancer's clients asked of it, HTTP and wire: counted for /stats, counted
 * and timed for /metrics, and written to the access log when it is on. A request is `begin`-ed
 * when it arrives and `end`-ed when its answer (or the head of a streamed one) is ready.
 */
export class Traffic {
  readonly http: TrafficTotals = { requests: 0, errors: 0, inflight: 0 };
  readonly wire: TrafficTotals = { requests: 0, errors: 0, inflight: 0 };
  readonly rateLimited: Record<Protocol, number> = { http: 0, wire: 0 };
  private readonly requests: Counter<"protocol" | "code">;
  /** One histogram per protocol, without labels: the cheapest to observe on every request. */
  private readonly latency: Record<Protocol, Histogram>;

  constructor(
    registry: Registry,
    private readonly accessLog: AccessLog | undefined,
  ) {
    this.requests = new Counter({
      name: "switchyard_requests_total",
      help: "Requests the load balancer answered, by protocol and answer (HTTP status; wire: ok or the error code)",
      labelNames: ["protocol", "code"],
      registers: [registry],
    });
    const latency = (protocol: Protocol, what: string) =>
      new Histogram({
        name: `switchyard_${protocol}_request_duration_seconds`,
        help: `Time from ${what} arriving at the load balancer to its answer (the head of a streamed one)`,
        buckets: LATENCY_BUCKETS,
        registers: [registry],
      });
    this.latency = { http: latency("http", "an HTTP request"), wire: latency("wire", "a wire request") };
  }

  begin(protocol: Protocol): number {
    this[protocol].inflight++;
    return performance.now();
  }

  /**
   * The request `begin` returned `startedAt` for is answered with `status` (an HTTP status, or for
   * the wire "ok" or the error code). `describe` is called only when the access log is on.
   */
  end(protocol: Protocol, status: string, startedAt: number, describe: () => RequestDetails): void {
    const durationMs = performance.now() - startedAt;
    const totals = this[protocol];
    totals.inflight--;
    totals.requests++;
    if (protocol === "http" ? Number(status) >= 500 : status !== "ok") totals.errors++;
    this.requests.inc({ protocol, code: status });
    this.latency[protocol].observe(durationMs / 1000);
    this.accessLog?.write({ protocol, status, durationMs, ...describe() });
  }

  /** A request refused by --rate-limit (also `end`-ed, as 429 or rate_limited). */
  limited(protocol: Protocol): void {
    this.rateLimited[protocol]++;
  }
}

/** A trace for a request about to be routed. */
export function newTrace(pool = "default"): RouteTrace {
  return { id: "-", pool, upstream: undefined, retries: 0 };
}

/** The onAttempt bookkeeping every router does: the upstream of this attempt, and one more retry when it follows a failure. */
export function traced(trace: RouteTrace | undefined, upstream: { label: string }, retry: boolean): void {
  if (trace === undefined) return;
  trace.upstream = upstream.label;
  if (retry) trace.retries++;
}

/** The code a failed wire request is counted under: the error code its client got. */
export function errorCode(error: unknown): string {
  if (error instanceof NetError) return error.remoteCode ?? error.code;
  if (error instanceof RequestError) return error.code;
  return "internal";
}
