import { Counter, Gauge, Registry } from "prom-client";
import type { ProcessStatus } from "@switchyard/wire";
import type { FleetStats } from "./stats.ts";

type Metric = Counter<string> | Gauge<string>;
type Labels = Record<string, string | number>;

/** The labels that name a process: its role, its number and its name ("Reverse Proxy #2"). */
const PROCESS = ["role", "n", "name"] as const;
/** The labels that name one upstream of one hop: the hop's role and name, the pool, the upstream's label. */
const UPSTREAM = ["tier", "hop", "pool", "upstream"] as const;
/** A cache: which (http at the front door, sqrt at a proxy) and the process it lives in. */
const CACHE = ["cache", "hop"] as const;

/**
 * GET /metrics in the Prometheus text format (prom-client renders it). The load balancer's own
 * requests are counted as they happen (traffic.ts); everything else is read from the fleet's
 * snapshot at each scrape, so a process that left the fleet leaves the metrics too.
 *
 * Per tier: `sum by (role) (switchyard_process_requests_total)`; per upstream of each hop:
 * `switchyard_upstream_requests_total` (and errors, retries, up).
 */
export class FleetMetrics {
  readonly registry = new Registry();
  private readonly fromSnapshot: Array<[Metric, (stats: FleetStats) => Array<[Labels, number]>]> = [];

  constructor() {
    this.define(Gauge, "switchyard_process_up", "1 when the process is up (serving), 0 when it is starting, down or stopping", PROCESS, (s) =>
      byProcess(s, (p) => (p.state === "up" ? 1 : 0)),
    );
    this.define(Counter, "switchyard_process_restarts_total", "Times the watchdog re-created the process after it died", PROCESS, (s) => byProcess(s, (p) => p.restarts));
    this.define(Gauge, "switchyard_process_uptime_seconds", "Seconds since the process (this incarnation) started", PROCESS, (s) => byProcess(s, (p) => p.uptimeSeconds));
    this.define(Gauge, "switchyard_process_resident_memory_bytes", "Resident memory (RSS) of the process", PROCESS, (s) => byProcess(s, (p) => p.memoryBytes));
    this.define(Counter, "switchyard_process_requests_total", "Requests the process answered (load balancer: wire and HTTP from clients; proxies: from the load balancer; servers: from proxies)", PROCESS, (s) =>
      byProcess(s, (p) => (p.role === "watchdog" ? null : p.requests)),
    );
    this.define(Counter, "switchyard_process_errors_total", "Requests the process answered with an error (HTTP: a 5xx status)", PROCESS, (s) => byProcess(s, (p) => (p.role === "watchdog" ? null : p.errors)));
    this.define(Gauge, "switchyard_process_inflight_requests", "Requests the process is working on", PROCESS, (s) => byProcess(s, (p) => (p.role === "watchdog" ? null : p.inflight)));
    this.define(Counter, "switchyard_upstream_requests_total", "Attempts a hop sent to an upstream (retries included)", UPSTREAM, (s) => byUpstream(s, (u) => u.requests));
    this.define(Counter, "switchyard_upstream_errors_total", "Attempts to an upstream that ended without an answer (refused, lost, timed out)", UPSTREAM, (s) => byUpstream(s, (u) => u.errors));
    this.define(Counter, "switchyard_upstream_retries_total", "Attempts to an upstream that retried another upstream's failure", UPSTREAM, (s) => byUpstream(s, (u) => u.retries));
    this.define(Gauge, "switchyard_upstream_up", "1 when the hop sees the upstream connected and healthy, else 0", UPSTREAM, (s) => byUpstream(s, (u) => (u.alive ? 1 : 0)));
    this.define(Gauge, "switchyard_upstream_inflight_requests", "Requests a hop has sent to an upstream and not had answered", UPSTREAM, (s) => byUpstream(s, (u) => u.inflight));
    this.define(Counter, "switchyard_cache_hits_total", "Requests answered from a cache", CACHE, (s) => byCache(s, (c) => c.hits));
    this.define(Counter, "switchyard_cache_misses_total", "Cache lookups that found nothing fresh", CACHE, (s) => byCache(s, (c) => c.misses));
    this.define(Gauge, "switchyard_cache_entries", "Entries a cache holds", CACHE, (s) => byCache(s, (c) => c.entries));
    this.define(Gauge, "switchyard_cache_bytes", "Bytes a cache holds (its own estimate)", CACHE, (s) => byCache(s, (c) => c.bytes));
    this.define(Counter, "switchyard_rate_limited_total", "Requests refused by --rate-limit (HTTP 429, wire rate_limited)", ["protocol"], (s) => [
      [{ protocol: "http" }, s.rateLimited.http],
      [{ protocol: "wire" }, s.rateLimited.wire],
    ]);
    this.define(Gauge, "switchyard_inflight_requests", "Requests the load balancer is working on", ["protocol"], (s) => [
      [{ protocol: "http" }, s.http.inflight],
      [{ protocol: "wire" }, s.wire.inflight],
    ]);
    // Labelled by group, so that an unknown value is an absent sample (a metric without labels always has one).
    this.define(Gauge, "switchyard_group_epoch", "Election epoch of a server group (absent when no server reports one)", ["group"], (s) => (s.rooms.epoch === null ? [] : [[{ group: "rooms" }, s.rooms.epoch]]));
    this.define(Gauge, "switchyard_group_leader", "Election id (the pid, as the logs name it) of a server group's leader (absent when none is known)", ["group"], (s) =>
      s.rooms.leader === null ? [] : [[{ group: "rooms" }, s.rooms.leader]],
    );
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The exposition text: the live counters as they are, the rest set from `stats`. */
  render(stats: FleetStats): Promise<string> {
    for (const [metric, values] of this.fromSnapshot) {
      metric.reset();
      for (const [labels, value] of values(stats)) {
        // A counter cannot be set: it is reset and raised to the snapshot's value (which only ever grows, or restarts at 0 with its process).
        if (metric instanceof Counter) metric.inc(labels, value);
        else metric.set(labels, value);
      }
    }
    return this.registry.metrics();
  }

  private define(kind: typeof Counter | typeof Gauge, name: string, help: string, labelNames: readonly string[], values: (stats: FleetStats) => Array<[Labels, number]>): void {
    const metric = new kind({ name, help, labelNames, registers: [this.registry] });
    this.fromSnapshot.push([metric, values]);
  }
}

function processLabels(p: ProcessStatus): Labels {
  return { role: p.role, n: p.n, name: p.name };
}

/** One sample per process that has the value (null: unknown, left out). */
function byProcess(stats: FleetStats, value: (p: ProcessStatus) => number | null): Array<[Labels, number]> {
  return stats.processes.flatMap((p) => {
    const v = value(p);
    return v === null ? [] : [[processLabels(p), v] as [Labels, number]];
  });
}

type UpstreamSample = NonNullable<ProcessStatus["hop"]>["upstreams"][number];

function byUpstream(stats: FleetStats, value: (u: UpstreamSample) => number): Array<[Labels, number]> {
  return stats.processes.flatMap((p) => (p.hop?.upstreams ?? []).map((u) => [{ tier: p.role, hop: p.name, pool: u.pool, upstream: u.label }, value(u)] as [Labels, number]));
}

type CacheSample = NonNullable<NonNullable<ProcessStatus["hop"]>["cache"]>;

function byCache(stats: FleetStats, value: (c: CacheSample) => number): Array<[Labels, number]> {
  return stats.processes.flatMap((p) => {
    const cache = p.hop?.cache;
    return cache === undefined ? [] : [[{ cache: p.role === "load_balancer" ? "http" : "sqrt", hop: p.name }, value(cache)] as [Labels, number]];
  });
}
