// What an operator reads off a running fleet: /metrics (Prometheus text, read by a parser that is
// not ours) and /stats after known traffic, whose counts must add up from tier to tier; and the
// access log, one line per request. A SIGKILLed proxy shows as a restart.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, parsePrometheus, promSum } from "@switchyard/testing";
import { openSession } from "../apps/client/src/session.ts";
import { call } from "./_http.ts";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

/** What `read` gives once it gives something, asked every 100 ms for at most `timeoutMs`. */
async function eventually<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(100);
  }
}

const WIRE = 24; // sqrt requests from 8 clients, 3 each; the third of each client repeats its first value
const HTTP = 10; // GET /home

test("after known traffic, /metrics counts add up across tiers; the access log has a line per request", async () => {
  const accessLog = join(makeTempDir(), "access.log");
  const fleet = await fleetFor(["--config", configFile(`[reverse_proxy]\ncache-entries = 100\n\n[load_balancer]\naccess-log = "${accessLog}"\n`)]);
  const base = fleet.httpUrl();

  const session = await openSession({ kind: "unix", path: join(fleet.runDir, "load_balancer.sock") }, 1, 10_000);
  try {
    for (let client = 1; client <= 8; client++) {
      for (const value of [client, client + 100, client]) expect(await session.request("sqrt", { client, value }, undefined, client)).toMatchObject({ result: Math.sqrt(value) });
    }
  } finally {
    session.close();
  }
  for (let i = 0; i < HTTP; i++) expect((await call(base, "GET", "/home")).status).toBe(200);

  const families = parsePrometheus((await call(base, "GET", "/metrics")).text);
  const sum = (name: string, match: Record<string, string> = {}) => promSum(families, name, match);
  // The load balancer answered every request, and timed each.
  expect(sum("switchyard_requests_total", { protocol: "wire", code: "ok" })).toBe(WIRE);
  expect(sum("switchyard_requests_total", { protocol: "http", code: "200" })).toBe(HTTP);
  expect(families.get("switchyard_wire_request_duration_seconds")?.metrics[0]?.count).toBe(String(WIRE));
  expect(families.get("switchyard_http_request_duration_seconds")?.metrics[0]?.count).toBe(String(HTTP));
  // Tier by tier: what the load balancer sent its proxies, the proxies answered; what the proxies did not answer from their cache, the servers did.
  expect(sum("switchyard_process_requests_total", { role: "load_balancer" })).toBe(WIRE + HTTP); // wire and HTTP (the scrape itself is not answered yet)
  expect(sum("switchyard_upstream_requests_total", { tier: "load_balancer" })).toBe(WIRE + HTTP);
  expect(sum("switchyard_process_requests_total", { role: "reverse_proxy" })).toBe(WIRE + HTTP);
  const hits = sum("switchyard_cache_hits_total", { cache: "sqrt" });
  expect(hits).toBe(8); // every repeated value, answered by the proxy that saw it first
  expect(sum("switchyard_upstream_requests_total", { tier: "reverse_proxy" })).toBe(WIRE + HTTP - hits);
  expect(sum("switchyard_process_requests_total", { role: "server" })).toBe(WIRE + HTTP - hits);
  expect(sum("switchyard_upstream_retries_total") + sum("switchyard_upstream_errors_total")).toBe(0);
  expect(sum("switchyard_process_up")).toBe(10);
  expect(sum("switchyard_upstream_up", { tier: "load_balancer" })).toBe(2);

  // /stats is the same as JSON, per process.
  const stats = (await call(base, "GET", "/stats")).json as { processes: Array<{ role: string; requests: number; pid: number | null }>; wire: { requests: number } };
  expect(stats.processes.filter((p) => p.role === "server").reduce((total, p) => total + p.requests, 0)).toBe(WIRE + HTTP - hits);
  expect(stats.wire.requests).toBe(WIRE);

  // The access log: a line per request, written within 200 ms.
  const lines = await eventually(
    () => {
      const written = readFileSync(accessLog, "utf8").split("\n");
      return written.filter((line) => line.includes("route=default")).length >= WIRE + HTTP ? written : undefined;
    },
    10_000,
    "the access log",
  );
  const home = lines.filter((line) => line.includes('request="GET /home"'));
  expect(home).toHaveLength(HTTP);
  for (const line of home) expect(line).toMatch(/ protocol=http id=[0-9a-f]{16} client=127\.0\.0\.1 request="GET \/home" route=default upstream="Proxy #[12]" status=200 duration_ms=\d+\.\d\d retries=0$/);
  const sqrt = lines.filter((line) => / protocol=wire .* request=sqrt /.test(line));
  expect(sqrt).toHaveLength(WIRE);
  expect(sqrt[0]).toMatch(/ client="Client #1" request=sqrt route=default upstream="Proxy #1" status=ok /);
  expect(lines.filter((line) => line.includes('request="GET /metrics" route=admin'))).toHaveLength(1);

  // The rooms leader: the servers elect one as they start, and again as each higher one joins, so on a loaded
  // machine the last election can still be running at the first scrape (scraping again adds to the counts above).
  await eventually(
    async () => (parsePrometheus((await call(base, "GET", "/metrics")).text).get("switchyard_group_leader")?.metrics.length === 1 ? true : undefined),
    20_000,
    "the rooms leader gauge",
  );

  // A SIGKILLed proxy is re-created: one restart, and every process up again.
  process.kill(fleet.pidOf("reverse_proxy --id 2")!, "SIGKILL");
  await fleet.watchdog.waitForLine(/Reverse Proxy #2 is back/);
  const after = await eventually(
    async () => {
      const scraped = parsePrometheus((await call(base, "GET", "/metrics")).text);
      return promSum(scraped, "switchyard_process_up") === 10 ? scraped : undefined;
    },
    15_000,
    "every process up again",
  );
  expect(promSum(after, "switchyard_process_restarts_total", { role: "reverse_proxy", n: "2" })).toBe(1);
  expect(promSum(after, "switchyard_process_restarts_total")).toBe(1);
});
