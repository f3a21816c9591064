import { NetError, RequestError } from "@switchyard/net";
import { Counter, type Registry } from "prom-client";
import type { AccessLog, RequestRecord } from "./access-log.ts";
import { LatencyHistogram } from "./latency.ts";

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
 * Everything the load balancer's clients asked of it, HTTP and wire: counted by answer and timed for
 * /metrics, and written to the access log when it is on. Plain numbers on the hot path, handed to
 * prom-client at each scrape. The wire listener reports each answer (`answered`); an HTTP request
 * is `begin`-ed when it arrives and `end`-ed when its answer (or a streamed one's head) is ready.
 */
export class Traffic {
  /** The front door's requests (the wire's are its listener's own counts). */
  readonly http: TrafficTotals = { requests: 0, errors: 0, inflight: 0 };
  readonly rateLimited: Record<Protocol, number> = { http: 0, wire: 0 };
  private readonly codes: Record<Protocol, Map<string, number>> = { http: new Map(), wire: new Map() };
  private readonly latency: Record<Protocol, LatencyHistogram>;

  constructor(
    registry: Registry,
    private readonly accessLog: AccessLog | undefined,
  ) {
    const { codes } = this;
    new Counter({
      name: "switchyard_requests_total",
      help: "Requests the load balancer answered, by protocol and answer (HTTP status; wire: ok or the error code)",
      labelNames: ["protocol", "code"],
      registers: [registry],
      collect() {
        this.reset();
        for (const protocol of PROTOCOLS) for (const [code, count] of codes[protocol]) this.inc({ protocol, code }, count);
      },
    });
    const latency = (protocol: Protocol, what: string) =>
      new LatencyHistogram(registry, `switchyard_${protocol}_request_duration_seconds`, `Time from ${what} arriving at the load balancer to its answer (the head of a streamed one)`, LATENCY_BUCKETS);
    this.latency = { http: latency("http", "an HTTP request"), wire: latency("wire", "a wire request") };
  }

  /** Whether requests are written to the access log (then the routers trace where each went). */
  get logging(): boolean {
    return this.accessLog !== undefined;
  }

  /** One request answered with `status` (an HTTP status; for the wire "ok" or the error code) after `durationMs`. */
  answered(protocol: Protocol, status: string, durationMs: number): void {
    const codes = this.codes[protocol];
    codes.set(status, (codes.get(status) ?? 0) + 1);
    this.latency[protocol].observe(durationMs / 1000);
  }

  /** An HTTP request arrived; what `end` needs. */
  begin(): number {
    this.http.inflight++;
    return performance.now();
  }

  /** The HTTP request `begin` returned `startedAt` for is answered; `describe` is called only when the access log is on. */
  end(status: number, startedAt: number, describe: () => RequestDetails): void {
    const durationMs = performance.now() - startedAt;
    const { http } = this;
    http.inflight--;
    http.requests++;
    if (status >= 500) http.errors++;
    const code = String(status);
    this.answered("http", code, durationMs);
    this.accessLog?.write({ protocol: "http", status: code, durationMs, ...describe() });
  }

  /** A wire request for the access log (the listener has counted it already). */
  logWire(status: string, durationMs: number, details: RequestDetails): void {
    this.accessLog?.write({ protocol: "wire", status, durationMs, ...details });
  }

  /** A request refused by --rate-limit (also answered, as 429 or rate_limited). */
  limited(protocol: Protocol): void {
    this.rateLimited[protocol]++;
  }
}

const PROTOCOLS: readonly Protocol[] = ["http", "wire"];

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
