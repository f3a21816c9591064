import { afterEach, describe, expect, test } from "bun:test";
import { CliError } from "@switchyard/cli";
import { createLogger } from "@switchyard/log";
import { NetError, RequestError } from "@switchyard/net";
import type { HttpExchangeRequest, HttpExchangeResponse } from "@switchyard/upstream";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { AccessLog } from "./access-log.ts";
import type { AdminEndpoints } from "./admin.ts";
import { type FrontDoor, type FrontDoorOptions, openFrontDoor, statusOf } from "./front-door.ts";
import { FleetMetrics } from "./metrics.ts";
import { StatsSource } from "./stats.ts";
import { type RouteTrace, Traffic } from "./traffic.ts";
import { createViews } from "./views.ts";

const silent = createLogger({ role: "Load Balancer", level: "silent" });

describe("statusOf", () => {
  test.each([
    ["NetError timeout", 504, new NetError("timeout", "no answer within 5000 ms")],
    ["NetError unavailable", 503, new NetError("unavailable", "unix:/x.sock is down")],
    ["NetError connection_lost", 502, new NetError("connection_lost", "connection reset")],
    ["remote timeout", 504, new NetError("remote", "upstream timed out", "timeout")],
    ["remote overloaded", 503, new NetError("remote", "every server is busy", "overloaded")],
    ["remote bad_request", 502, new NetError("remote", "bad http request", "bad_request")],
    ["RequestError unavailable", 503, new RequestError("unavailable", "no reverse proxy available")],
    ["RequestError timeout", 504, new RequestError("timeout", "waited too long for a slot")],
  ])("%s → %d, keeping the message", (_what, status, error) => {
    expect(statusOf(error)).toEqual([status, error.message]);
  });

  test("anything else is 502", () => {
    expect(statusOf(new Error("boom"))).toEqual([502, "boom"]);
  });
});

interface Routed {
  exchange: HttpExchangeRequest;
  key: number;
  client: string;
}

const doors: FrontDoor[] = [];
const tempDirs: string[] = [];
afterEach(async () => {
  await Promise.all(doors.splice(0).map((door) => door.stop()));
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** What a front door needs besides its routing: traffic counters (with an access log when asked) and the views. */
function observability(accessLog?: AccessLog): Pick<FrontDoorOptions, "traffic" | "views"> {
  const metrics = new FleetMetrics();
  const traffic = new Traffic(metrics.registry, accessLog);
  const self = () => ({ role: "load_balancer" as const, n: 0, name: "Load Balancer", pid: process.pid, state: "up", restarts: 0, uptimeSeconds: 1, proxy: null, address: null, memoryBytes: null, requests: 0, errors: 0, inflight: 0 });
  const source = new StatsSource({ topology: "two-tier", traffic, self, wire: () => ({ requests: 0, errors: 0, inflight: 0 }) });
  return { traffic, views: createViews({ source, metrics, allow: undefined, log: silent }) };
}

/** A front door on a free port whose route answers with `answer` (or its rejection), recording what reached it. */
function open(answer: (exchange: HttpExchangeRequest, trace: RouteTrace) => Promise<HttpExchangeResponse> = async () => ({ status: 200, headers: [] }), accessLog?: AccessLog) {
  const routed: Routed[] = [];
  const adminCalls: { endpoint: string; method: string; path: string; address: string }[] = [];
  const adminAnswer = (endpoint: string) => async (request: Request, address: string) => {
    adminCalls.push({ endpoint, method: request.method, path: new URL(request.url).pathname, address });
    return Response.json({ message: endpoint, status: "successful" });
  };
  const admin: AdminEndpoints = { rep: adminAnswer("rep"), add: adminAnswer("add"), rm: adminAnswer("rm"), cache: adminAnswer("cache") };
  const seen = observability(accessLog);
  const door = openFrontDoor({
    host: "127.0.0.1",
    port: 0,
    admin,
    ...seen,
    route: (exchange, key, client, _stream, trace) => {
      routed.push({ exchange, key, client });
      return answer(exchange, trace).then((response) => ({ response }));
    },
    key: (headers) => Number(headers.find(([name]) => name === "x-client-id")?.[1] ?? 4242),
    log: silent,
  });
  doors.push(door);
  return { door, routed, adminCalls, traffic: seen.traffic, port: Number(new URL(door.url).port) };
}

/** Sends `text` as it is over a TCP connection and resolves with everything read until the server closes it. */
async function rawHttp(port: number, text: string): Promise<string> {
  const { promise, resolve, reject } = Promise.withResolvers<string>();
  const chunks: Buffer[] = [];
  await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      open: (socket) => void socket.write(text),
      data: (_socket, chunk) => void chunks.push(Buffer.from(chunk)),
      close: () => resolve(Buffer.concat(chunks).toString("latin1")),
      error: (_socket, error) => reject(error),
    },
  });
  return promise;
}

const header = (exchange: HttpExchangeRequest, name: string) => exchange.headers.filter(([n]) => n === name).map(([, v]) => v);

describe("openFrontDoor", () => {
  test("its url names the port actually bound", () => {
    const { door, port } = open();
    expect(door.url).toBe(`http://127.0.0.1:${port}`);
    expect(port).toBeGreaterThan(0);
  });

  test("a GET travels to the route with method, target, key, client and the forwarding headers", async () => {
    const { door, routed, port } = open();
    const response = await fetch(`${door.url}/home?x=1`, { headers: { "X-Custom": "Value", "X-Client-Id": "107" } });
    expect(response.status).toBe(200);
    expect(routed).toHaveLength(1);
    const { exchange, key, client } = routed[0]!;
    expect(exchange.method).toBe("GET");
    expect(exchange.target).toBe("/home?x=1");
    expect(exchange.body).toBeUndefined();
    expect(key).toBe(107);
    expect(client).toBe("127.0.0.1");
    for (const [name] of exchange.headers) expect(name).toBe(name.toLowerCase());
    expect(header(exchange, "x-custom")).toEqual(["Value"]);
    expect(header(exchange, "x-forwarded-for")).toEqual(["127.0.0.1"]);
    expect(header(exchange, "x-forwarded-proto")).toEqual(["http"]);
    expect(header(exchange, "x-forwarded-host")).toEqual([`127.0.0.1:${port}`]);
    expect(header(exchange, "x-request-id")).toHaveLength(1);
    expect(header(exchange, "x-request-id")[0]).toMatch(/^[0-9a-f]{16}$/);
  });

  test("every request gets its own request id", async () => {
    const { door, routed } = open();
    await fetch(`${door.url}/a`);
    await fetch(`${door.url}/b`);
    const ids = routed.map((r) => header(r.exchange, "x-request-id")[0]);
    expect(ids[0]).not.toBe(ids[1]);
  });

  test("hop-by-hop headers, and those Connection names, do not travel on", async () => {
    const { door, routed } = open();
    await fetch(`${door.url}/home`, { headers: { Connection: "keep-alive, x-secret", "x-secret": "1", TE: "trailers", "x-kept": "yes" } });
    const names = routed[0]!.exchange.headers.map(([name]) => name);
    expect(names).not.toContain("connection");
    expect(names).not.toContain("x-secret");
    expect(names).not.toContain("te");
    expect(names).toContain("x-kept"); // not everything was dropped
  });

  test("the route's status, headers and body come back to the client", async () => {
    const body = new TextEncoder().encode("<h1>Server 3</h1>");
    const { door } = open(async () => ({ status: 201, headers: [["content-type", "text/html"], ["x-served-by", "Server 3"]], body }));
    const response = await fetch(`${door.url}/home`);
    expect(response.status).toBe(201);
    expect(response.headers.get("content-type")).toBe("text/html");
    expect(response.headers.get("x-served-by")).toBe("Server 3");
    expect(await response.text()).toBe("<h1>Server 3</h1>");
  });

  test("a POST passes its body bytes to the route", async () => {
    const sent = new Uint8Array([0, 1, 2, 250, 255, 10, 13]);
    const { door, routed } = open();
    const response = await fetch(`${door.url}/upload`, { method: "POST", body: sent, headers: { "content-type": "application/octet-stream" } });
    expect(response.status).toBe(200);
    const { exchange } = routed[0]!;
    expect(exchange.method).toBe("POST");
    expect(exchange.target).toBe("/upload");
    expect(exchange.body).toEqual(sent);
    expect(header(exchange, "content-type")).toEqual(["application/octet-stream"]);
  });

  test("a route that times out is a 504 with the seed's failure JSON, saying what happened but not where", async () => {
    const { door } = open(() => Promise.reject(new NetError("timeout", "no answer within 5000 ms")));
    const response = await fetch(`${door.url}/slow`);
    expect(response.status).toBe(504);
    expect(await response.json()).toEqual({ message: "<Error> the upstream did not answer in time", status: "failure" });
  });

  test("answers do not tell what runs behind: Server and X-Powered-By are dropped, the rest passes", async () => {
    const { door } = open(async () => ({ status: 200, headers: [["Server", "nginx/1.25.3"], ["X-Powered-By", "Express"], ["x-app", "kept"]], body: new TextEncoder().encode("ok") }));
    const response = await fetch(`${door.url}/home`);
    expect(await response.text()).toBe("ok");
    expect(response.headers.get("server")).toBeNull();
    expect(response.headers.get("x-powered-by")).toBeNull();
    expect(response.headers.get("x-app")).toBe("kept");
  });

  test("no upstream available is a 503", async () => {
    const { door } = open(() => Promise.reject(new RequestError("unavailable", "no reverse proxy available")));
    const response = await fetch(`${door.url}/home`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ message: "<Error> no upstream available", status: "failure" });
  });

  test("GET /heartbeat is 200 with an empty body and never reaches the route", async () => {
    const { door, routed } = open();
    const response = await fetch(`${door.url}/heartbeat`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("");
    expect(routed).toEqual([]);
  });

  test("POST /heartbeat is 405 with Allow", async () => {
    const { door, routed } = open();
    const response = await fetch(`${door.url}/heartbeat`, { method: "POST", body: "x" });
    expect(response.status).toBe(405);
    expect(response.headers.get("allow")).toBe("GET, HEAD");
    expect(((await response.json()) as { status: string }).status).toBe("failure");
    expect(routed).toEqual([]);
  });

  test("/rep, /add and /rm reach the admin endpoints with the client's address, not the route", async () => {
    const { door, routed, adminCalls } = open();
    const rep = await fetch(`${door.url}/rep?verbose=1`);
    const add = await fetch(`${door.url}/add`, { method: "POST", body: '{"n":1}' });
    const rm = await fetch(`${door.url}/rm`, { method: "DELETE", body: '{"n":1}' });
    expect(await rep.json()).toEqual({ message: "rep", status: "successful" });
    expect(await add.json()).toEqual({ message: "add", status: "successful" });
    expect(await rm.json()).toEqual({ message: "rm", status: "successful" });
    expect(adminCalls).toEqual([
      { endpoint: "rep", method: "GET", path: "/rep", address: "127.0.0.1" },
      { endpoint: "add", method: "POST", path: "/add", address: "127.0.0.1" },
      { endpoint: "rm", method: "DELETE", path: "/rm", address: "127.0.0.1" },
    ]);
    expect(routed).toEqual([]);
  });

  // BUG: front-door.ts derives `target` by cutting request.url after "//host"; for a Host Bun cannot put in a URL
  // (here "a?b") request.url is only the path, so "/api/users" reaches the route as "/users".
  test("the target is the path the client sent, whatever its Host header says", async () => {
    const { routed, port } = open();
    const reply = await rawHttp(port, "GET /api/users?id=7 HTTP/1.1\r\nHost: a?b\r\nConnection: close\r\n\r\n");
    expect(reply).toStartWith("HTTP/1.1 200");
    expect(routed.map((r) => r.exchange.target)).toEqual(["/api/users?id=7"]);
  });

  test("a second front door on a port in use is a CliError with exit code 78 naming --http-port", () => {
    const { port } = open();
    let error: unknown;
    try {
      doors.push(openFrontDoor({ host: "127.0.0.1", port, admin: {} as AdminEndpoints, ...observability(), route: () => Promise.reject(new Error("unused")), key: () => 0, log: silent }));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(78);
    expect((error as CliError).message).toContain(`--http-port ${port}`);
    expect((error as CliError).message).toContain("already in use");
  });

  test("every request is counted by its outcome, and the access log has one line each with id, client, route, upstream, status and retries", async () => {
    const dir = mkdtempSync(join(tmpdir(), "front-door-"));
    tempDirs.push(dir);
    const file = join(dir, "access.log");
    const accessLog = new AccessLog(file, "text", silent);
    const { port, traffic } = open(async (exchange, trace) => {
      trace.upstream = "Proxy #2";
      trace.retries = exchange.target === "/retried" ? 1 : 0;
      if (exchange.target === "/broken") throw new NetError("connection_lost", "connection reset");
      return { status: 200, headers: [] };
    }, accessLog);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/retried`, { headers: { "x-request-id": "req-0001" } })).status).toBe(200);
    expect((await fetch(`${base}/broken`)).status).toBe(502);
    expect((await fetch(`${base}/rep`)).status).toBe(200);
    expect(traffic.http).toEqual({ requests: 3, errors: 1, inflight: 0 });
    accessLog.flush();
    const lines = readFileSync(file, "utf8").trim().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/ protocol=http id=req-0001 client=127\.0\.0\.1 request="GET \/retried" route=default upstream="Proxy #2" status=200 duration_ms=\d+\.\d\d retries=1$/);
    expect(lines[1]).toContain('request="GET /broken" route=default upstream="Proxy #2" status=502');
    expect(lines[1]).toMatch(/ id=[0-9a-f]{16} /); // the id the front door gave it
    expect(lines[2]).toContain('request="GET /rep" route=admin upstream=- status=200');
    accessLog.close();
  });

  test("the views are the front door's own paths, not routed", async () => {
    const { port, routed } = open();
    const base = `http://127.0.0.1:${port}`;
    const stats = await fetch(`${base}/stats`);
    expect(stats.headers.get("content-type")).toBe("application/json");
    expect(((await stats.json()) as { processes: unknown[] }).processes).toHaveLength(1);
    const metrics = await fetch(`${base}/metrics`);
    expect(metrics.headers.get("content-type")).toStartWith("text/plain; version=0.0.4");
    expect(await metrics.text()).toContain("switchyard_requests_total");
    const page = await fetch(`${base}/dashboard`);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(await page.text()).toContain("<!doctype html>");
    expect(routed).toHaveLength(0);
  });
});
