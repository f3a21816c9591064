import { describe, expect, test } from "bun:test";
import type { IncomingRequest } from "@switchyard/http";
import { createLogger } from "@switchyard/log";
import { NetError } from "@switchyard/net";
import type { FleetStatus, ProcessStatus } from "@switchyard/wire";
import { parseAddressList } from "./address-list.ts";
import { FleetMetrics } from "./metrics.ts";
import { type FleetStats, StatsSource } from "./stats.ts";
import { Traffic } from "./traffic.ts";
import { createViews } from "./views.ts";

const silent = createLogger({ role: "Load Balancer", level: "silent" });

const self = (requests = 0): ProcessStatus => ({
  role: "load_balancer",
  n: 0,
  name: "Load Balancer",
  pid: process.pid,
  state: "up",
  restarts: 0,
  uptimeSeconds: 1,
  proxy: null,
  address: "unix:/tmp/lb.sock",
  memoryBytes: 1,
  requests,
  errors: 0,
  inflight: 0,
  hop: { upstreams: [] },
});

function setup(allow?: string) {
  const metrics = new FleetMetrics();
  const traffic = new Traffic(metrics.registry, undefined);
  let reads = 0;
  const source = new StatsSource({
    topology: "two-tier",
    traffic,
    wire: () => ({ requests: 0, errors: 0, inflight: 0 }),
    self: () => {
      reads++;
      return self(reads);
    },
  });
  const views = createViews({ source, metrics, allow: parseAddressList("--admin-allow", allow), log: silent, eventsIntervalMs: 100 });
  return { views, source, reads: () => reads };
}

function get(target: string, address = "127.0.0.1", method = "GET"): IncomingRequest {
  return { method, target, minor: 1, headers: [], host: "localhost", address, body: null };
}

const text = (body: unknown) => (typeof body === "string" ? body : new TextDecoder().decode(body as Uint8Array));

describe("views", () => {
  test("answer loopback by default, and only --admin-allow's addresses when it is set; read-only (405 otherwise)", async () => {
    const { views } = setup();
    expect((await views.stats(get("/stats"))).status).toBe(200);
    const refused = await views.stats(get("/stats", "10.1.2.3"));
    expect([refused.status, JSON.parse(text(refused.body)).message]).toEqual([403, "<Error> /stats does not answer this address (loopback only; see --admin-allow)"]);
    expect((await views.metrics(get("/metrics", "10.1.2.3", "POST"))).status).toBe(405);

    const opened = setup("10.0.0.0/8").views;
    expect((await opened.dashboard(get("/dashboard", "10.1.2.3"))).status).toBe(200);
    expect((await opened.dashboard(get("/dashboard", "127.0.0.1"))).status).toBe(403);
  });

  test("the dashboard may run only its own inline code and talk only to this origin", async () => {
    const page = await setup().views.dashboard(get("/dashboard"));
    const policy = page.headers?.find(([name]) => name === "Content-Security-Policy")?.[1];
    expect(policy).toContain("default-src 'none'");
    expect(policy).toContain("connect-src 'self'");
  });

  test("/events sends a snapshot at once and then one per interval, as data: events; a cancelled stream stops asking", async () => {
    const { views, reads } = setup();
    const answer = await views.events(get("/events"));
    expect(answer.headers).toContainEqual(["Content-Type", "text/event-stream"]);
    const reader = (answer.body as ReadableStream<Uint8Array>).getReader();
    let received = "";
    while (!received.includes("data: ")) received += text((await reader.read()).value);
    while (!received.endsWith("\n\n")) received += text((await reader.read()).value);
    expect(received).toStartWith("retry: 2000\n\n");
    const event = received.split("\n\n").find((chunk) => chunk.startsWith("data: "));
    expect((JSON.parse(event!.slice(6)) as FleetStats).processes[0]?.name).toBe("Load Balancer");
    // The next interval brings a newer snapshot.
    let next = "";
    while (!next.endsWith("\n\n")) next += text((await reader.read()).value);
    expect((JSON.parse(next.slice(6)) as FleetStats).processes[0]?.requests).toBe(2);
    await reader.cancel();
    const after = reads();
    await Bun.sleep(500); // five intervals: a live stream would have read more snapshots
    expect(reads()).toBe(after);
  });

  test("close() ends every open /events stream (the load balancer is stopping)", async () => {
    const { views } = setup();
    const reader = ((await views.events(get("/events"))).body as ReadableStream<Uint8Array>).getReader();
    views.close();
    let done = false;
    while (!done) done = (await reader.read()).done;
    expect(done).toBe(true);
  });
});

describe("StatsSource", () => {
  const fleet: FleetStatus = {
    time: 5,
    topology: "two-tier",
    processes: [
      { ...self(0), role: "watchdog", name: "Watchdog", hop: undefined },
      { ...self(3), restarts: 2 },
    ],
    rooms: { leader: 7, epoch: 2 },
    events: [{ time: 4, kind: "respawn", text: "Load Balancer is back" }],
  };

  test("with a watchdog: its fleet.status, with this load balancer's counts read fresh (its restarts kept)", async () => {
    const { source } = setup();
    source.attach({ request: async (op) => (op === "fleet.status" ? fleet : null) });
    const stats = await source.snapshot();
    expect(stats.processes.map((p) => [p.name, p.requests, p.restarts])).toEqual([
      ["Watchdog", 0, 0],
      ["Load Balancer", 1, 2],
    ]);
    expect(stats.rooms).toEqual({ leader: 7, epoch: 2 });
    expect(stats.warning).toBeUndefined();
  });

  test("without a watchdog, or when it does not answer: this load balancer alone, and a warning saying why", async () => {
    const { source } = setup();
    expect((await source.snapshot()).warning).toContain("without a watchdog");
    const other = setup().source;
    other.attach({ request: () => Promise.reject(new NetError("timeout", "no answer within 3000 ms")) });
    const stats = await other.snapshot();
    expect(stats.processes.map((p) => p.name)).toEqual(["Load Balancer"]);
    expect(stats.warning).toBe("the watchdog did not answer fleet.status: no answer within 3000 ms");
  });

  test("snapshots asked while one is being read share it; the next one is read anew", async () => {
    const { source, reads } = setup();
    await Promise.all([source.snapshot(), source.snapshot(), source.snapshot()]);
    expect(reads()).toBe(1);
    await source.snapshot();
    expect(reads()).toBe(2);
  });
});
