import { expect, setDefaultTimeout, test } from "bun:test";
import type { Server } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Origin } from "./origin.ts";
import { SMALL_BODY } from "./exchange.ts";
import type { OriginOptions, UpstreamRequest } from "./types.ts";
import { clientErrorOf, closedPort, deferred, okResponse, onCleanup, startRawServer, text, useCleanups, within } from "./_test-helpers.ts";

// Generous: real sockets on a possibly loaded 2-core machine.
setDefaultTimeout(60_000);
useCleanups();

function origin(url: string, options: Omit<OriginOptions, "url"> = {}): Origin {
  const o = new Origin({ url, ...options });
  onCleanup(() => o.close());
  return o;
}

const get = (target = "/", more: Partial<UpstreamRequest> = {}): UpstreamRequest => ({ method: "GET", target, headers: [], body: null, timeoutMs: 5000, ...more });

/** A Bun.serve on 127.0.0.1 that echoes the request and counts the client ports it saw (one per connection). */
function echoServer(handle?: (req: Request, server: Server<undefined>) => Response | Promise<Response>) {
  const ports = new Set<number>();
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req, srv) {
      ports.add(srv.requestIP(req)?.port ?? -1);
      if (handle) return handle(req, srv);
      const url = new URL(req.url);
      const body = await req.text();
      return Response.json({ method: req.method, path: url.pathname, search: url.search, body, host: req.headers.get("host"), te: req.headers.get("transfer-encoding"), cl: req.headers.get("content-length"), headers: [...req.headers] });
    },
  });
  onCleanup(() => server.stop(true));
  return { url: `http://127.0.0.1:${server.port}`, ports, server };
}

test("GET, POST, PUT, DELETE and HEAD with bodies and query strings reach a Bun.serve upstream intact", async () => {
  const { url } = echoServer();
  const o = origin(url);
  const enc = (s: string) => new TextEncoder().encode(s);
  const cases: Array<[string, Uint8Array | null]> = [["GET", null], ["POST", enc("posted")], ["PUT", enc("put ✓")], ["DELETE", enc("gone")], ["PATCH", null]];
  for (const [method, body] of cases) {
    const res = await o.request({ ...get("/a/b?x=1&y=%20z"), method, body, headers: [["x-custom", "v"]] });
    expect(res.status).toBe(200);
    const echoed = JSON.parse(await text(res.body));
    expect(echoed).toMatchObject({ method, path: "/a/b", search: "?x=1&y=%20z", body: body === null ? "" : new TextDecoder().decode(body) });
    expect(echoed.host).toBe(url.slice("http://".length));
    expect(echoed.headers).toContainEqual(["x-custom", "v"]);
  }
  const head = await o.request({ ...get("/"), method: "HEAD" });
  expect(head.status).toBe(200);
  expect(head.body).toBeNull();
  expect(head.headers.some(([n]) => n === "content-type")).toBe(true);
  expect(o.inflight).toBe(0);
});

test("response headers come back in order with framing headers as sent; status and reason as sent", async () => {
  const raw = startRawServer((socket) => {
    socket.write("HTTP/1.1 418 I'm a teapot\r\nSet-Cookie: a=1\r\nX-B: 2\r\nSet-Cookie: b=2\r\nContent-Length: 5\r\n\r\nshort");
  });
  const res = await origin(raw.url).request(get());
  expect(res.status).toBe(418);
  expect(res.reason).toBe("I'm a teapot");
  expect(res.headers).toEqual([["set-cookie", "a=1"], ["x-b", "2"], ["set-cookie", "b=2"], ["content-length", "5"]]);
  expect(res.contentLength).toBe(5);
  expect(await text(res.body)).toBe("short");
});

test("100 sequential requests use one keep-alive connection", async () => {
  const { url, ports } = echoServer(() => new Response("ok"));
  const o = origin(url);
  for (let i = 0; i < 100; i++) {
    const res = await o.request(get(`/${i}`));
    expect(await text(res.body)).toBe("ok");
  }
  expect(ports.size).toBe(1);
  expect(o.openConnections).toBe(1);
  expect(o.idleConnections).toBe(1);
});

test("concurrent requests open several connections, and inflight counts them until their bodies end", async () => {
  const arrived = deferred();
  const release = deferred();
  let waiting = 0;
  const { url, ports } = echoServer(async () => {
    if (++waiting === 8) arrived.resolve();
    await release.promise;
    return new Response("done");
  });
  const o = origin(url);
  const all = Array.from({ length: 8 }, (_, i) => o.request(get(`/${i}`)));
  await within(arrived.promise, "8 requests at the server at once");
  expect(o.inflight).toBe(8);
  expect(ports.size).toBe(8);
  release.resolve();
  for (const res of await Promise.all(all)) expect(await text(res.body)).toBe("done");
  expect(o.inflight).toBe(0);
  expect(o.idleConnections).toBe(8);
});

test("maxConnections caps the connections; requests beyond it wait, or time out with sent=false", async () => {
  const release = deferred();
  const twoArrived = deferred();
  let arrived = 0;
  const { url, ports } = echoServer(async () => {
    if (++arrived === 2) twoArrived.resolve();
    await release.promise;
    return new Response("x");
  });
  const o = origin(url, { maxConnections: 2 });
  const five = Array.from({ length: 5 }, () => o.request(get()));
  await within(twoArrived.promise, "the first two requests");
  const late = await clientErrorOf(o.request(get("/", { timeoutMs: 50 })));
  expect(late).toMatchObject({ code: "timeout", sent: false });
  expect(late.message).toContain("no connection within 50 ms");
  release.resolve();
  for (const res of await Promise.all(five)) expect(await text(res.body)).toBe("x");
  expect(ports.size).toBe(2);
});

test("Connection: close from the upstream, or from the caller, is honoured", async () => {
  const raw = startRawServer((socket, req) => {
    socket.write(okResponse("bye", req.target === "/close" ? "Connection: close\r\n" : ""));
    if (req.target === "/close") socket.end();
  });
  const o = origin(raw.url);
  expect(await text((await o.request(get("/close"))).body)).toBe("bye");
  expect(await text((await o.request(get("/keep"))).body)).toBe("bye");
  expect(raw.connections).toBe(2);
  expect(await text((await o.request(get("/keep", { headers: [["Connection", "close"]] }))).body)).toBe("bye");
  expect(await text((await o.request(get("/keep"))).body)).toBe("bye");
  expect(raw.connections).toBe(3);
  expect(raw.requests.map((r) => r.connectionId)).toEqual([0, 1, 1, 2]);
});

test("a request on an idle connection the upstream just dropped is retried once on a fresh one", async () => {
  // The second request on each connection finds it closed: the race between reuse and the upstream's idle close.
  const raw = startRawServer((socket, req) => {
    if (req.indexOnConnection === 0) socket.write(okResponse(`answer ${req.target}`));
    else socket.terminate();
  });
  const o = origin(raw.url);
  expect(await text((await o.request(get("/1"))).body)).toBe("answer /1");
  const res = await o.request({ ...get("/2"), method: "POST", body: new TextEncoder().encode("replayable") });
  expect(await text(res.body)).toBe("answer /2");
  expect(raw.connections).toBe(2);
  expect(raw.requests.map((r) => [r.target, new TextDecoder().decode(r.body)])).toEqual([["/1", ""], ["/2", "replayable"], ["/2", "replayable"]]);
});

test("a stream body is not replayed: the stale-connection failure surfaces as reset with sent=true", async () => {
  const raw = startRawServer((socket, req) => {
    if (req.indexOnConnection === 0) socket.write(okResponse("first"));
    else socket.terminate();
  });
  const o = origin(raw.url);
  await text((await o.request(get())).body);
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      c.enqueue(new TextEncoder().encode("once"));
      c.close();
    },
  });
  const error = await clientErrorOf(o.request({ ...get(), method: "POST", body, headers: [["content-length", "4"]] }));
  expect(error).toMatchObject({ code: "reset", sent: true });
  expect(error.message).toContain(raw.url);
  expect(raw.connections).toBe(1);
});

test("a fresh connection that drops the request is not retried: reset, sent=true", async () => {
  const raw = startRawServer((socket) => socket.terminate());
  const error = await clientErrorOf(origin(raw.url).request(get()));
  expect(error).toMatchObject({ code: "reset", sent: true });
  expect(error.message).toContain("before the response head arrived");
  expect(raw.requests.length).toBe(1);
});

test("connect refused fails connect_failed with sent=false, naming the origin", async () => {
  const url = `http://127.0.0.1:${closedPort()}`;
  const error = await clientErrorOf(origin(url).request(get()));
  expect(error).toMatchObject({ code: "connect_failed", sent: false });
  expect(error.message).toBe(`${url}: connection refused`);
});

test("an upstream that never answers times out within timeoutMs, sent=true", async () => {
  const raw = startRawServer(() => {});
  const o = origin(raw.url);
  const started = performance.now();
  const error = await clientErrorOf(o.request(get("/", { timeoutMs: 300 })));
  const elapsed = performance.now() - started;
  expect(error).toMatchObject({ code: "timeout", sent: true });
  expect(error.message).toBe(`${raw.url}: no response head within 300 ms`);
  expect(elapsed).toBeGreaterThanOrEqual(295);
  expect(elapsed).toBeLessThan(2000);
  expect(o.inflight).toBe(0);
  expect(o.openConnections).toBe(0); // the connection was dropped, not reused
});

test("malformed status line, oversized head and conflicting framing fail with protocol", async () => {
  const answers: Record<string, string> = {
    "/status": "HTTP/1.1 OK 200\r\nContent-Length: 0\r\n\r\n",
    "/big": `HTTP/1.1 200 OK\r\nX-Big: ${"b".repeat(70 * 1024)}\r\nContent-Length: 0\r\n\r\n`,
    "/both": "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    "/two": "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
    "/chunk": "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  const raw = startRawServer((socket, req) => socket.write(answers[req.target] ?? ""));
  const o = origin(raw.url);
  for (const target of ["/status", "/big", "/both", "/two"]) {
    const error = await clientErrorOf(o.request(get(target)));
    expect(error).toMatchObject({ code: "protocol", sent: true });
    expect(error.message).toStartWith(`${raw.url}: invalid response: `);
  }
  // Bad framing inside the body arrives after the head: the body stream errors instead.
  const res = await o.request(get("/chunk"));
  const error = await clientErrorOf(text(res.body));
  expect(error).toMatchObject({ code: "protocol" });
  expect(o.openConnections).toBe(0);
});

test("chunked bodies are decoded (extensions, trailers, odd splits) and the connection is reused", async () => {
  const raw = startRawServer((socket) => {
    const parts = ["HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel", "lo\r\n6\r\n world\r", "\n0\r\nX-Trailer: t\r\n\r\n"];
    // Separate writes on a no-delay socket: the client sees them in several reads, most likely.
    for (const part of parts) socket.write(part);
  });
  const o = origin(raw.url);
  for (let i = 0; i < 3; i++) {
    const res = await o.request(get());
    expect(res.headers).toContainEqual(["transfer-encoding", "chunked"]);
    expect(res.contentLength).toBeUndefined();
    expect(await text(res.body)).toBe("hello world");
  }
  expect(raw.connections).toBe(1);
});

test("a close-delimited (HTTP/1.0 style) body is read to the end and its connection not reused", async () => {
  const raw = startRawServer((socket) => {
    socket.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil close");
    socket.end();
  });
  const o = origin(raw.url);
  for (let i = 0; i < 2; i++) expect(await text((await o.request(get())).body)).toBe("until close");
  expect(raw.connections).toBe(2);
});

test("no body for HEAD, 204 and 304; 100 Continue is skipped; keep-alive continues after each", async () => {
  const raw = startRawServer((socket, req) => {
    if (req.method === "HEAD") socket.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    else if (req.target === "/204") socket.write("HTTP/1.1 204 No Content\r\n\r\n");
    else if (req.target === "/304") socket.write("HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n");
    else socket.write("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
  });
  const o = origin(raw.url);
  const head = await o.request({ ...get(), method: "HEAD" });
  expect([head.status, head.body, head.contentLength]).toEqual([200, null, 1000]);
  expect((await o.request(get("/204"))).body).toBeNull();
  expect((await o.request(get("/304"))).body).toBeNull();
  const continued = await o.request(get("/continue"));
  expect([continued.status, await text(continued.body)]).toEqual([200, "ok"]);
  expect(raw.connections).toBe(1);
});

test("bytes after the end of a response mean the connection is not reused", async () => {
  const raw = startRawServer((socket) => socket.write(`${okResponse("ok")}GARBAGE`));
  const o = origin(raw.url);
  expect(await text((await o.request(get())).body)).toBe("ok");
  expect(await text((await o.request(get())).body)).toBe("ok");
  expect(raw.connections).toBe(2);
});

test("cancelling a body closes its connection; the next request opens another", async () => {
  const raw = startRawServer((socket) => socket.write(`HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n${"x".repeat(1000)}`));
  const o = origin(raw.url);
  const res = await o.request(get());
  const reader = res.body!.getReader();
  expect((await reader.read()).done).toBe(false);
  await reader.cancel();
  expect(o.inflight).toBe(0);
  expect(o.openConnections).toBe(0);
  const again = await o.request(get());
  await again.body!.cancel();
  expect(raw.connections).toBe(2);
});

test("a small body (read whole before the answer resolves) that stalls or is cut fails the request itself", async () => {
  const raw = startRawServer((socket, req) => {
    socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
    if (req.target === "/cut") socket.end();
  });
  const o = origin(raw.url);
  expect(await clientErrorOf(o.request(get("/stall", { timeoutMs: 200 })))).toMatchObject({ code: "timeout", message: `${raw.url}: no complete response within 200 ms` });
  expect(await clientErrorOf(o.request(get("/cut")))).toMatchObject({ code: "reset" });
});

test("a streamed body that stalls fails with timeout after bodyIdleTimeoutMs; a connection cut mid-body fails with reset", async () => {
  const raw = startRawServer((socket, req) => {
    socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${SMALL_BODY + 1}\r\n\r\npartial`);
    if (req.target === "/cut") socket.end();
  });
  const o = origin(raw.url);
  const stalled = await o.request(get("/stall", { bodyIdleTimeoutMs: 200 }));
  const started = performance.now();
  const error = await clientErrorOf(text(stalled.body));
  expect(error).toMatchObject({ code: "timeout" });
  expect(error.message).toBe(`${raw.url}: body made no progress for 200 ms`);
  expect(performance.now() - started).toBeLessThan(2000);
  const cut = await o.request(get("/cut"));
  expect(await clientErrorOf(text(cut.body))).toMatchObject({ code: "reset" });
});

test("close() fails queued and running requests with closed, and later ones at once", async () => {
  const arrived = deferred();
  const raw = startRawServer(() => arrived.resolve());
  const o = origin(raw.url, { maxConnections: 1 });
  const running = clientErrorOf(o.request(get("/running")));
  const queued = clientErrorOf(o.request(get("/queued")));
  await within(arrived.promise, "the first request");
  o.close();
  expect(await running).toMatchObject({ code: "closed", sent: true });
  expect(await queued).toMatchObject({ code: "closed", sent: false });
  expect(await clientErrorOf(o.request(get()))).toMatchObject({ code: "closed", sent: false });
  expect(o.inflight).toBe(0);
});

test("idle connections are closed after idleTimeoutMs, and at most maxIdle are kept", async () => {
  const allArrived = deferred();
  const sockets: Array<() => void> = [];
  const raw = startRawServer((socket) => {
    sockets.push(() => socket.write(okResponse("ok")));
    if (sockets.length === 4) allArrived.resolve();
  });
  const o = origin(raw.url, { maxIdle: 2, idleTimeoutMs: 100 });
  const four = Array.from({ length: 4 }, () => o.request(get()));
  await within(allArrived.promise, "four requests");
  for (const answer of sockets) answer();
  for (const res of await Promise.all(four)) await text(res.body);
  expect(o.idleConnections).toBe(2);
  expect(o.openConnections).toBe(2);
  await within(raw.whenClosed(2), "two connections closed as surplus");
  const closedAt = performance.now();
  await within(raw.whenClosed(4), "the idle ones closed after idleTimeoutMs");
  expect(performance.now() - closedAt).toBeGreaterThanOrEqual(50);
  expect(o.openConnections).toBe(0);
});

test("unix socket upstreams work too", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-http-"));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, "up.sock");
  const server = Bun.serve({ unix: path, fetch: (req) => new Response(`unix ${req.headers.get("host")}`) });
  onCleanup(() => server.stop(true));
  const o = origin(`unix:${path}`);
  for (let i = 0; i < 3; i++) expect(await text((await o.request(get())).body)).toBe("unix localhost");
  const missing = await clientErrorOf(origin(`unix:${join(dir, "none.sock")}`).request(get()));
  expect(missing).toMatchObject({ code: "connect_failed", sent: false });
});

test("a stream body whose length differs from its declared Content-Length fails with protocol", async () => {
  const { url } = echoServer();
  const o = origin(url);
  const stream = (text: string) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(text));
        c.close();
      },
    });
  for (const [body, declared] of [["too long", "3"], ["short", "10"]] as const) {
    const error = await clientErrorOf(o.request({ ...get(), method: "POST", body: stream(body), headers: [["content-length", declared]] }));
    expect(error).toMatchObject({ code: "protocol", sent: true });
  }
  const exact = await o.request({ ...get(), method: "POST", body: stream("exact"), headers: [["content-length", "5"]] });
  expect(JSON.parse(await text(exact.body))).toMatchObject({ body: "exact", cl: "5", te: null });
  const chunked = await o.request({ ...get(), method: "POST", body: stream("chunked") });
  expect(JSON.parse(await text(chunked.body))).toMatchObject({ body: "chunked", te: "chunked", cl: null });
});

test("a request body stream that errors fails the request with reset and drops the connection", async () => {
  const { url } = echoServer();
  const o = origin(url);
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      c.error(new Error("client went away"));
    },
  });
  const error = await clientErrorOf(o.request({ ...get(), method: "POST", body }));
  expect(error.code).toBe("reset");
  expect(error.message).toContain("request body failed: client went away");
  expect(o.openConnections).toBe(0);
});

test("bad URLs are refused with bad_url", () => {
  for (const url of ["https://127.0.0.1:1", "http://127.0.0.1:1/base", "http://127.0.0.1:1/?q"]) {
    expect(() => new Origin({ url })).toThrow(expect.objectContaining({ code: "bad_url" }));
  }
});

test("an upstream that answers before reading the whole upload: the answer is delivered, the upload stopped", async () => {
  const listener = Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(socket) {
        socket.write("HTTP/1.1 413 Payload Too Large\r\nContent-Length: 8\r\nConnection: close\r\n\r\ntoo big!");
        socket.end();
      },
    },
  });
  onCleanup(() => listener.stop(true));
  const cancelled = deferred<unknown>();
  const body = new ReadableStream<Uint8Array>({
    pull(c) {
      c.enqueue(new Uint8Array(64 * 1024)); // endless
    },
    cancel: (reason) => cancelled.resolve(reason),
  });
  const o = origin(`http://127.0.0.1:${listener.port}`);
  const res = await o.request({ ...get(), method: "PUT", body });
  expect(res.status).toBe(413);
  expect(await text(res.body)).toBe("too big!");
  await within(cancelled.promise, "the request body stream to be cancelled");
  expect(o.inflight).toBe(0);
  expect(o.openConnections).toBe(0);
});

test("timeoutMs does not count time spent streaming the request body; a stalled upload fails after bodyIdleTimeoutMs", async () => {
  const { url } = echoServer();
  const o = origin(url);
  let sent = 0;
  const slow = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (sent === 6) return c.close();
      await Bun.sleep(50); // the scenario itself: an upload that takes 300 ms in all
      c.enqueue(new TextEncoder().encode(String(sent++)));
    },
  });
  const res = await o.request({ ...get(), method: "POST", body: slow, timeoutMs: 150 });
  expect(JSON.parse(await text(res.body))).toMatchObject({ body: "012345" });

  const stalled = new ReadableStream<Uint8Array>({ pull() {} }); // never yields
  const started = performance.now();
  const error = await clientErrorOf(o.request({ ...get(), method: "POST", body: stalled, bodyIdleTimeoutMs: 200 }));
  expect(error).toMatchObject({ code: "timeout", sent: true });
  expect(error.message).toBe(`${url}: body made no progress for 200 ms`);
  expect(performance.now() - started).toBeLessThan(2000);
});

test("an idle connection the upstream closes (keep-alive timeout) is not used again", async () => {
  const raw = startRawServer((socket) => {
    socket.write(okResponse("ok"));
    socket.end(); // no Connection: close: the client learns of it only from the FIN
  });
  const o = origin(raw.url);
  expect(await text((await o.request(get())).body)).toBe("ok");
  await within(raw.whenClosed(1), "the upstream closing the idle connection");
  expect(await text((await o.request(get())).body)).toBe("ok");
  expect(raw.connections).toBe(2);
  expect(raw.requests.map((r) => r.connectionId)).toEqual([0, 1]);
});
