// External HTTP upstreams (--upstream) behind the fleet: a small Bun server of the tests' own
// (e2e/_http.ts, its own process, so it can be killed) that echoes what it received, and Python's
// http.server, a server nobody here wrote, serving a temp directory. Requests pass intact both ways
// with the forwarding headers added and the hop-by-hop ones dropped; a dead upstream is a 502, a
// slow one a 504, and a failing health check takes an upstream out of rotation until it recovers.
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { RawSocket, Spawned, binary, makeTempDir } from "@switchyard/testing";
import {
  CURL,
  type Echo,
  MIB,
  type Upstream,
  call,
  curl,
  digestStream,
  failed,
  largeBody,
  largeBodySha256,
  portOf,
  sampleRss,
  setUpstreamHealth,
  skipCheck,
  startUpstream,
} from "./_http.ts";
import { cleanUpAfterEach, fleetFor } from "./_support.ts";

cleanUpAfterEach();

/** A fleet whose proxies (or, flat, the load balancer) send HTTP to `upstreams`; no servers needed. */
function externalFleet(upstreams: readonly Upstream[] | readonly string[], extra: string[] = []) {
  const urls = upstreams.map((u) => (typeof u === "string" ? u : u.url));
  return fleetFor(["--servers", "0", ...urls.flatMap((url) => ["--upstream", url]), ...extra]);
}

/** python3 -m http.server on a temp directory holding `files`; skips (returns undefined) without python3. */
async function startPython(files: Record<string, string | Uint8Array>): Promise<{ origin: string; server: Spawned } | undefined> {
  const python = Bun.which("python3");
  if (python === null) return undefined;
  const dir = makeTempDir();
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  const server = new Spawned([python, "-u", "-m", "http.server", "0", "--bind", "127.0.0.1", "--directory", dir]);
  const line = await server.waitForLine(/Serving HTTP on 127\.0\.0\.1 port \d+/, 20_000);
  return { origin: `http://127.0.0.1:${/port (\d+)/.exec(line)![1]}`, server };
}

const header = (echo: Echo, name: string) => echo.headers.filter(([n]) => n === name).map(([, v]) => v);

const TOPOLOGIES = [
  { name: "two-tier (load balancer → 2 reverse proxies → upstream)", args: ["--proxies", "2"], hop: "[Reverse Proxy #" },
  { name: "flat (--proxies 0: load balancer → upstream)", args: ["--proxies", "0"], hop: "[Load Balancer]" },
];

describe("the Bun echo upstream", () => {
  for (const { name, args, hop } of TOPOLOGIES) {
    test(`${name}: method, path, query, body and headers arrive; forwarding headers are added and hop-by-hop ones dropped; the answer comes back intact`, async () => {
      const upstream = await startUpstream("echo");
      const fleet = await externalFleet([upstream], [...args, "--health-path", "/healthcheck"]);
      const base = fleet.httpUrl();

      // Written byte for byte, so no client library adds, drops or merges a header on the way.
      const body = "the request body: ünïcödé, 0123456789";
      const size = Buffer.byteLength(body);
      const socket = await RawSocket.connect(`tcp://127.0.0.1:${portOf(base)}`);
      socket.write(
        Buffer.from(
          [
            "PATCH /echo/a%20b/c?x=1&y=two%20words&empty= HTTP/1.1",
            "Host: front.example:8080",
            "Content-Type: text/plain; charset=utf-8",
            `Content-Length: ${size}`,
            "Connection: close, X-Hop-Secret",
            "X-Hop-Secret: named by Connection, so dropped",
            "Keep-Alive: timeout=5",
            "TE: trailers",
            "Proxy-Authorization: Basic Zm9vOmJhcg==",
            "Proxy-Connection: keep-alive",
            "X-Forwarded-For: 203.0.113.7",
            "X-Forwarded-Proto: https",
            "X-Forwarded-Host: spoofed.example",
            "X-Request-Id: e2e-request-1",
            "X-Want-Status: 201",
            "X-Custom: kept",
            "",
            body,
          ].join("\r\n"),
        ),
      );
      const closed = await socket.closedWithin(20_000);
      socket.close();
      expect(closed).toBe(true);
      const raw = Buffer.from(socket.received).toString("utf8");
      const split = raw.indexOf("\r\n\r\n");
      const head = raw.slice(0, split).split("\r\n");
      expect(head[0]).toBe("HTTP/1.1 201 Created");
      const responseHeaders = new Map(head.slice(1).map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
      expect(responseHeaders.get("x-upstream")).toBe("echo");
      expect(responseHeaders.get("cache-control")).toBe("no-store");
      expect(responseHeaders.get("content-type")).toStartWith("application/json");
      const echo = JSON.parse(raw.slice(split + 4)) as Echo;

      expect(echo.method).toBe("PATCH");
      expect(echo.target).toBe("/echo/a%20b/c?x=1&y=two%20words&empty=");
      expect(echo.body).toBe(body);
      expect(header(echo, "content-length")).toEqual([String(size)]);
      expect(header(echo, "content-type")).toEqual(["text/plain; charset=utf-8"]);
      expect(header(echo, "x-custom")).toEqual(["kept"]);
      // The client's address is appended to the chain it sent; the edge's own scheme and Host
      // replace what the client claimed; a valid request id is kept for the whole way.
      expect(header(echo, "x-forwarded-for")).toEqual(["203.0.113.7, 127.0.0.1"]);
      expect(header(echo, "x-forwarded-proto")).toEqual(["http"]);
      expect(header(echo, "x-forwarded-host")).toEqual(["front.example:8080"]);
      expect(header(echo, "x-request-id")).toEqual(["e2e-request-1"]);
      // Hop-by-hop headers, and the one Connection named, stop at the first hop.
      const names = echo.headers.map(([n]) => n);
      for (const dropped of ["x-hop-secret", "keep-alive", "te", "proxy-authorization", "proxy-connection"]) {
        expect(names).not.toContain(dropped);
      }
      // The only Connection header the upstream may see is its own hop's.
      for (const value of header(echo, "connection")) expect(value.toLowerCase()).not.toContain("x-hop-secret");

      // Without an id, each request gets a fresh one; the Host the client used becomes X-Forwarded-Host.
      const first = (await call(base, "GET", "/echo?n=1")).json as Echo;
      const second = (await call(base, "GET", "/echo?n=2")).json as Echo;
      const ids = [...header(first, "x-request-id"), ...header(second, "x-request-id")];
      expect(ids).toHaveLength(2);
      for (const id of ids) expect(id).toMatch(/^[0-9a-f]{16}$/);
      expect(ids[0]).not.toBe(ids[1]);
      expect(header(first, "x-forwarded-host")).toEqual([`127.0.0.1:${portOf(base)}`]);
      expect(header(first, "x-forwarded-for")).toEqual(["127.0.0.1"]);
      expect([first.method, first.target, first.body]).toEqual(["GET", "/echo?n=1", ""]);

      // The upstream saw the requests, and the hop that talks to it logged them.
      await upstream.process.waitForLine("echo PATCH /echo/a%20b/c?x=1&y=two%20words&empty=");
      await fleet.watchdog.waitFor(
        () => fleet.watchdog.lines.some((l) => l.startsWith(hop) && l.includes("PATCH /echo/a%20b/c?x=1&y=two%20words&empty=") && l.endsWith(`Forwarding to ${upstream.url}`)),
        20_000,
        "the hop's log line for the PATCH",
      );

      if (CURL === null) skipCheck("a POST through the fleet with curl", "curl is not on PATH");
      else {
        const viaCurl = await curl(`${base}/echo/curl?q=1`, ["-X", "POST", "-H", "content-type: application/json", "--data", '{"from":"curl"}']);
        expect(viaCurl.status).toBe(200);
        expect(viaCurl.headers.get("x-upstream")).toBe("echo");
        const curlEcho = JSON.parse(viaCurl.text) as Echo;
        expect([curlEcho.method, curlEcho.target, curlEcho.body]).toEqual(["POST", "/echo/curl?q=1", '{"from":"curl"}']);
        expect(header(curlEcho, "user-agent")[0]).toStartWith("curl/");
      }
    });
  }
});

describe("python3 -m http.server serving a temp directory", () => {
  test("files pass through the two-tier fleet intact, with python's status codes and headers", async () => {
    const text = "Hello from a file nobody here wrote.\n";
    // Larger than a proxy's 64 KiB inline answers, so it takes the streamed path.
    const binaryFile = new Uint8Array(300_000).map((_, i) => (i * 7919 + (i >> 8)) & 0xff);
    const started = await startPython({ "hello.txt": text, "data.bin": binaryFile });
    if (started === undefined) return skipCheck("the python3 http.server test", "python3 is not on PATH");
    const { origin, server } = started;
    const fleet = await externalFleet([origin], ["--proxies", "2", "--health-path", "/hello.txt"]);
    const base = fleet.httpUrl();

    const direct = await fetch(`${origin}/hello.txt`);
    const viaFleet = await fetch(`${base}/hello.txt?v=1`);
    expect(viaFleet.status).toBe(200);
    expect(await viaFleet.text()).toBe(text);
    // Python's Server header says what runs behind: the front door drops it (issue 5, backend identities hidden).
    expect(direct.headers.get("server")).toStartWith("SimpleHTTP");
    expect(viaFleet.headers.get("server")).toBeNull();
    for (const name of ["content-type", "content-length", "last-modified"]) {
      expect([name, viaFleet.headers.get(name)]).toEqual([name, direct.headers.get(name)]);
    }
    expect(viaFleet.headers.get("content-length")).toBe(String(text.length));
    // Python logs each request it served: the path and query arrived as sent.
    await server.waitForLine(/"GET \/hello\.txt\?v=1 HTTP\/1\.1" 200/);

    const directData = await fetch(`${origin}/data.bin`, { method: "HEAD" });
    const data = await fetch(`${base}/data.bin`);
    expect([data.status, data.headers.get("content-type"), data.headers.get("last-modified")]).toEqual([200, "application/octet-stream", directData.headers.get("last-modified")]);
    expect(Buffer.from(await data.arrayBuffer()).equals(Buffer.from(binaryFile))).toBe(true);

    // Python's own errors pass through as it answered them.
    for (const [method, path, status] of [
      ["GET", "/missing.txt", 404],
      ["POST", "/hello.txt", 501],
    ] as const) {
      const mine = await fetch(origin + path, { method, body: method === "POST" ? "x" : undefined });
      const theirs = await fetch(base + path, { method, body: method === "POST" ? "x" : undefined });
      expect([method, path, theirs.status, await theirs.text()]).toEqual([method, path, status, await mine.text()]);
      expect(theirs.headers.get("content-type")).toBe(mine.headers.get("content-type"));
    }

    if (CURL === null) skipCheck("GET of a file through the fleet with curl", "curl is not on PATH");
    else {
      const viaCurl = await curl(`${base}/hello.txt`);
      expect([viaCurl.status, viaCurl.headers.get("content-type"), viaCurl.text]).toEqual([200, "text/plain", text]);
    }
  });
});

// BUG (not streaming): an answer's Content-Length is lost on the way. HEAD answers arrive with
// "Content-Length: 0" instead of the GET's length (python's HEAD through the fleet, and the seed
// servers' own HEAD /home), and an external answer above 64 KiB arrives chunked without the
// upstream's Content-Length. Enable these once fixed (`bun test --todo` runs them).
describe("Content-Length of answers", () => {
  test("HEAD through the fleet keeps the length a GET would have (python's file and the servers' /home)", async () => {
    const text = "Hello from a file nobody here wrote.\n";
    const origin = (await startPython({ "hello.txt": text }))?.origin;
    if (origin === undefined) return skipCheck("HEAD of a python-served file", "python3 is not on PATH");
    const fleet = await externalFleet([origin], ["--proxies", "2", "--health-path", "/hello.txt"]);
    const head = await fetch(`${fleet.httpUrl()}/hello.txt`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), await head.text()]).toEqual([200, String(text.length), ""]);

    const plain = await fleetFor(["--proxies", "0"]);
    const get = await fetch(`${plain.httpUrl()}/home`);
    const headHome = await fetch(`${plain.httpUrl()}/home`, { method: "HEAD" });
    expect(headHome.headers.get("content-length")).toBe(get.headers.get("content-length"));
  });
});

describe("an upstream that fails", () => {
  test("killed: the next request is a 502 (the log names it, the answer does not), it is logged down, and it serves again once restarted on its port", async () => {
    const upstream = await startUpstream("mortal");
    // Checks every 300 ms bring it back quickly; 5 failed ones to take it out leave the first request (1.5 s) to find it dead.
    const fleet = await externalFleet([upstream], ["--proxies", "1", "--health-path", "/healthcheck", "--health-interval", "300", "--health-fall", "5"]);
    const base = fleet.httpUrl();
    expect((await call(base, "GET", "/echo")).status).toBe(200);

    upstream.process.kill("SIGKILL");
    await upstream.process.exited(10_000);
    const dead = await call(base, "GET", "/echo");
    expect(dead.status).toBe(502);
    expect((dead.json as { status: string }).status).toBe("failure");
    // Backend identities stay hidden: the client learns what failed, the log where.
    expect((dead.json as { message: string }).message).toBe("<Error> bad gateway: the upstream could not be reached or its answer was broken");
    await fleet.watchdog.waitForLine(new RegExp(`^\\[Reverse Proxy #1\\]: GET /echo: 502 \\(${upstream.url.replaceAll(".", "\\.")}: `));
    expect(Object.keys(dead.json as object).sort()).toEqual(["message", "status"]);
    await fleet.watchdog.waitForLine(`[Reverse Proxy #1]: ${upstream.url} is down (`);
    // While it is out, nothing is available: an immediate 503, not a hang.
    const none = await call(base, "GET", "/echo");
    expect([none.status, none.json]).toEqual([503, failed("<Error> no upstream available")]);

    const again = await startUpstream("reborn", upstream.port);
    await fleet.watchdog.waitForLine(`[Reverse Proxy #1]: ${upstream.url} is back (passed 2 health checks)`);
    const back = await call(base, "GET", "/echo");
    expect([back.status, (back.json as Echo).upstream]).toEqual([200, "reborn"]);
    expect(again.port).toBe(upstream.port);
  });

  test("too slow: a 504 within the request budget, after the request reached it; the log names the upstream", async () => {
    // The watchdog passes --timeout-ms to the load balancer and the proxies when it has the flag;
    // otherwise the load balancer's 8 s budget applies (and the proxy's share of it, 95 %).
    const help = Bun.spawnSync([binary("watchdog"), "--help"]).stdout.toString();
    const budgetMs = help.includes("--timeout-ms") ? 1500 : 8000;
    const upstream = await startUpstream("sloth");
    const fleet = await externalFleet([upstream], ["--proxies", "1", "--health-path", "/healthcheck", ...(budgetMs === 8000 ? [] : ["--timeout-ms", String(budgetMs)])]);
    const base = fleet.httpUrl();

    const started = performance.now();
    const slow = await call(base, "GET", "/slow?ms=20000", { timeoutMs: 30_000 });
    const elapsed = performance.now() - started;
    expect([slow.status, slow.json]).toEqual([504, failed("<Error> the upstream did not answer in time")]);
    await fleet.watchdog.waitForLine(`[Reverse Proxy #1]: GET /slow?ms=20000: 504 (${upstream.url} did not answer in time)`);
    expect(elapsed).toBeGreaterThan(budgetMs * 0.8);
    expect(elapsed).toBeLessThan(budgetMs + 3000);
    await upstream.process.waitForLine("slow request started (20000 ms)");
  }, 60_000);

  test("--health-path: an upstream whose health check fails is taken out of rotation and comes back when it passes", async () => {
    const a = await startUpstream("A");
    const b = await startUpstream("B");
    const fleet = await externalFleet([a, b], ["--proxies", "1", "--health-path", "/health/custom", "--health-interval", "200"]);
    const base = fleet.httpUrl();
    // The checks use the path given.
    await a.process.waitForLine("health /health/custom 200");
    await b.process.waitForLine("health /health/custom 200");

    await setUpstreamHealth(a, 503);
    await fleet.watchdog.waitForLine(`[Reverse Proxy #1]: ${a.url} is down (2 health checks failed: GET /health/custom answered 503)`);
    const whileDown = await Promise.all(Array.from({ length: 40 }, (_, i) => call(base, "GET", `/echo?i=${i}`)));
    expect(whileDown.map((r) => [r.status, (r.json as Echo).upstream])).toEqual(whileDown.map(() => [200, "B"]));

    await setUpstreamHealth(a, 200);
    await fleet.watchdog.waitForLine(`[Reverse Proxy #1]: ${a.url} is back (passed 2 health checks)`);
    // The random policy spreads requests over both again (bounded).
    const seen = new Set<string>();
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const answer = await call(base, "GET", `/echo?again=${i}`);
      expect(answer.status).toBe(200);
      seen.add((answer.json as Echo).upstream);
    }
    expect([...seen].sort()).toEqual(["A", "B"]);
  });
});

describe("256 MiB bodies through the two-tier fleet", () => {
  const SIZE_MIB = 256;
  const RSS_LIMIT_MIB = 200;

  /** pids of the load balancer and both proxies, whose memory must stay bounded. */
  function relays(fleet: Awaited<ReturnType<typeof externalFleet>>): number[] {
    const pids = [fleet.pidOf("load_balancer"), fleet.pidOf("reverse_proxy --id 1"), fleet.pidOf("reverse_proxy --id 2")];
    if (pids.some((pid) => pid === undefined)) throw new Error(`missing a relay: ${pids}`);
    return pids as number[];
  }

  // A relay that buffered the body would hold 256 MiB; streamed, each stays far below (about
  // 40-100 MiB in trial runs). RSS is sampled every 25 ms while the body moves.
  test("an upload streams to the upstream with a matching checksum, the relays staying below 200 MiB RSS", async () => {
    const upstream = await startUpstream("sink");
    const fleet = await externalFleet([upstream], ["--proxies", "2", "--health-path", "/healthcheck"]);
    const sampler = sampleRss(relays(fleet));
    const response = await fetch(`${fleet.httpUrl()}/upload`, { method: "POST", body: largeBody(SIZE_MIB), signal: AbortSignal.timeout(100_000) });
    const peaks = sampler.stop();
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ bytes: SIZE_MIB * MIB, sha256: largeBodySha256(SIZE_MIB) });
    for (const peak of peaks) expect(peak).toBeLessThan(RSS_LIMIT_MIB);
  }, 120_000);

  test("a download streams to the client with a matching checksum, the relays staying below 200 MiB RSS", async () => {
    const upstream = await startUpstream("source");
    const fleet = await externalFleet([upstream], ["--proxies", "2", "--health-path", "/healthcheck"]);
    const sampler = sampleRss(relays(fleet));
    const response = await fetch(`${fleet.httpUrl()}/download?mib=${SIZE_MIB}`, { signal: AbortSignal.timeout(100_000) });
    expect(response.status).toBe(200);
    const got = await digestStream(response.body!);
    const peaks = sampler.stop();
    expect(got).toEqual({ bytes: SIZE_MIB * MIB, sha256: largeBodySha256(SIZE_MIB) });
    for (const peak of peaks) expect(peak).toBeLessThan(RSS_LIMIT_MIB);
  }, 120_000);
});
