import { describe, expect, test } from "bun:test";
import { parsePrometheus, promSum } from "@switchyard/testing";
import type { ProcessStatus } from "@switchyard/wire";
import { FleetMetrics } from "./metrics.ts";
import type { FleetStats } from "./stats.ts";
import { Traffic } from "./traffic.ts";

function process_(role: ProcessStatus["role"], n: number, name: string, extra: Partial<ProcessStatus> = {}): ProcessStatus {
  return { role, n, name, pid: 1000 + n, state: "up", restarts: 0, uptimeSeconds: 12.5, proxy: null, address: null, memoryBytes: 50_000_000, requests: 0, errors: 0, inflight: 0, ...extra };
}

const upstream = (label: string, n: number, counts: { requests: number; errors?: number; retries?: number; alive?: boolean }) => ({
  pool: "default",
  n,
  label,
  alive: counts.alive ?? true,
  inflight: 0,
  requests: counts.requests,
  errors: counts.errors ?? 0,
  retries: counts.retries ?? 0,
});

/** A small two-tier fleet after 10 wire requests: one proxy failed once and its request was retried on the other. */
function fleet(overrides: Partial<FleetStats> = {}): FleetStats {
  return {
    time: 1,
    topology: "two-tier",
    processes: [
      process_("watchdog", 0, "Watchdog"),
      process_("server", 1, "Server 1", { requests: 6, proxy: 1 }),
      process_("server", 2, "Server 2", { requests: 4, proxy: 2, restarts: 2 }),
      process_("reverse_proxy", 1, "Reverse Proxy #1", { requests: 6, hop: { upstreams: [upstream("Server #1", 1, { requests: 6 })], cache: { hits: 3, misses: 6, entries: 6, bytes: 600 } } }),
      process_("reverse_proxy", 2, "Reverse Proxy #2", { requests: 4, state: "starting", hop: { upstreams: [upstream("Server #2", 2, { requests: 4 })] } }),
      process_("load_balancer", 0, "Load Balancer", {
        requests: 10,
        hop: { upstreams: [upstream("Proxy #1", 1, { requests: 6, retries: 1 }), upstream("Proxy #2", 2, { requests: 5, errors: 1, alive: false })] },
      }),
    ],
    rooms: { leader: 4242, epoch: 3 },
    events: [],
    http: { requests: 0, errors: 0, inflight: 0 },
    wire: { requests: 10, errors: 0, inflight: 2 },
    rateLimited: { http: 4, wire: 1 },
    ...overrides,
  };
}

describe("FleetMetrics", () => {
  test("every family is named switchyard_*, has help, and counters end in _total; a real parser reads the whole exposition", async () => {
    // The parser has teeth: a broken sample line is an error, not a misreading.
    expect(() => parsePrometheus('# TYPE x counter\nx{a="b" 1\n')).toThrow();
    const families = parsePrometheus(await new FleetMetrics().render(fleet()));
    expect(families.size).toBeGreaterThan(15);
    for (const family of families.values()) {
      expect(family.name).toMatch(/^switchyard_[a-z_]+$/);
      expect(family.help.length).toBeGreaterThan(10);
      if (family.type === "COUNTER") expect(family.name).toEndWith("_total");
      else expect(family.name).not.toEndWith("_total");
    }
  });

  test("processes carry role, n and name; up, restarts, uptime, memory and requests come from the snapshot", async () => {
    const families = parsePrometheus(await new FleetMetrics().render(fleet()));
    expect(families.get("switchyard_process_up")?.type).toBe("GAUGE");
    expect(families.get("switchyard_process_up")?.metrics.map((m) => m.labels)).toContainEqual({ role: "reverse_proxy", n: "2", name: "Reverse Proxy #2" });
    expect(promSum(families, "switchyard_process_up", { role: "reverse_proxy", n: "2" })).toBe(0); // starting is not up
    expect(promSum(families, "switchyard_process_up")).toBe(5);
    expect(promSum(families, "switchyard_process_restarts_total", { name: "Server 2" })).toBe(2);
    expect(promSum(families, "switchyard_process_uptime_seconds", { role: "watchdog" })).toBe(12.5);
    expect(promSum(families, "switchyard_process_resident_memory_bytes", { role: "server", n: "1" })).toBe(50_000_000);
    // Requests per tier add up: what the load balancer answered reached the proxies, and then the servers.
    expect(promSum(families, "switchyard_process_requests_total", { role: "load_balancer" })).toBe(10);
    expect(promSum(families, "switchyard_process_requests_total", { role: "reverse_proxy" })).toBe(10);
    expect(promSum(families, "switchyard_process_requests_total", { role: "server" })).toBe(10);
    // The watchdog answers no requests: it has no such samples rather than zeros.
    expect(families.get("switchyard_process_requests_total")?.metrics.some((m) => m.labels?.role === "watchdog")).toBe(false);
  });

  test("upstreams carry tier, hop, pool and upstream: requests, errors, retries, up", async () => {
    const families = parsePrometheus(await new FleetMetrics().render(fleet()));
    const proxy2 = { tier: "load_balancer", hop: "Load Balancer", pool: "default", upstream: "Proxy #2" };
    expect(families.get("switchyard_upstream_requests_total")?.metrics.map((m) => m.labels)).toContainEqual(proxy2);
    expect(promSum(families, "switchyard_upstream_requests_total", { tier: "load_balancer" })).toBe(11);
    expect(promSum(families, "switchyard_upstream_errors_total", proxy2)).toBe(1);
    expect(promSum(families, "switchyard_upstream_retries_total", { upstream: "Proxy #1" })).toBe(1);
    expect(promSum(families, "switchyard_upstream_up", proxy2)).toBe(0);
    expect(promSum(families, "switchyard_upstream_up", { tier: "reverse_proxy" })).toBe(2);
  });

  test("caches, rate limits, in-flight requests and the rooms leader", async () => {
    const families = parsePrometheus(await new FleetMetrics().render(fleet()));
    expect(promSum(families, "switchyard_cache_hits_total", { cache: "sqrt", hop: "Reverse Proxy #1" })).toBe(3);
    expect(promSum(families, "switchyard_cache_misses_total", { cache: "sqrt" })).toBe(6);
    expect(promSum(families, "switchyard_rate_limited_total", { protocol: "http" })).toBe(4);
    expect(promSum(families, "switchyard_rate_limited_total", { protocol: "wire" })).toBe(1);
    expect(promSum(families, "switchyard_inflight_requests", { protocol: "wire" })).toBe(2);
    expect(promSum(families, "switchyard_group_epoch", { group: "rooms" })).toBe(3);
    expect(promSum(families, "switchyard_group_leader", { group: "rooms" })).toBe(4242);
  });

  test("a process that left the fleet, and a leader no one knows, leave the metrics at the next scrape", async () => {
    const metrics = new FleetMetrics();
    await metrics.render(fleet());
    const smaller = fleet({ rooms: { leader: null, epoch: null } });
    smaller.processes = smaller.processes.filter((p) => p.name !== "Server 2");
    const families = parsePrometheus(await metrics.render(smaller));
    expect(families.get("switchyard_process_up")?.metrics.some((m) => m.labels?.name === "Server 2")).toBe(false);
    expect(families.get("switchyard_group_leader")?.metrics ?? []).toHaveLength(0);
  });

  test("the load balancer's own requests are counted by protocol and answer, and timed in a histogram", async () => {
    const metrics = new FleetMetrics();
    const traffic = new Traffic(metrics.registry, undefined);
    const describe = () => ({ id: "-", client: "127.0.0.1", request: "GET /", route: "default", upstream: "Proxy #1", retries: 0 });
    for (const status of [200, 200, 502]) traffic.end(status, traffic.begin(), describe);
    traffic.answered("wire", "ok", 1.5); // as the wire listener reports it
    const families = parsePrometheus(await metrics.render(fleet()));
    expect(promSum(families, "switchyard_requests_total", { protocol: "http", code: "200" })).toBe(2);
    expect(promSum(families, "switchyard_requests_total", { protocol: "http", code: "502" })).toBe(1);
    expect(promSum(families, "switchyard_requests_total", { protocol: "wire", code: "ok" })).toBe(1);
    const latency = families.get("switchyard_http_request_duration_seconds");
    expect(latency?.type).toBe("HISTOGRAM");
    expect(latency?.metrics[0]?.count).toBe("3");
    expect(latency?.metrics[0]?.buckets?.["+Inf"]).toBe("3");
    expect(families.get("switchyard_wire_request_duration_seconds")?.metrics[0]?.count).toBe("1");
    expect(traffic.http).toEqual({ requests: 3, errors: 1, inflight: 0 });
  });
});
