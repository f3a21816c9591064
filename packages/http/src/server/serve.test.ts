import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import type { Socket } from "bun";
import { createHash } from "node:crypto";
import net from "node:net";
import { deferred, onCleanup, useCleanups, within } from "../_test-helpers.ts";
import { ListenError, serveHttp } from "./serve.ts";
import type { HttpHandler, HttpServer, IncomingRequest, OutgoingResponse, ServeOptions } from "./types.ts";

// Generous: real sockets (and 32 MiB transfers) on a possibly loaded 2-core machine.
setDefaultTimeout(60_000);
useCleanups();

const servers: HttpServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.stop(0)));
});

/** A server on 127.0.0.1 and a free port, stopped after the test. */
function serve(handler: HttpHandler, more: Partial<Omit<ServeOptions, "handler">> = {}): HttpServer {
  const server = serveHttp({ host: "127.0.0.1", port: 0, handler, ...more });
  servers.push(server);
  return server;
}

const MiB = 1024 * 1024;
const ok = (body: string, headers: Array<[string, string]> = []): OutgoingResponse => ({ status: 200, headers, body });

/** A stream of these strings, one chunk each, then its end. */
function streamOf(...parts: string[]): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const part of parts) controller.enqueue(Buffer.from(part));
      controller.close();
    },
  });
}

/** Lets a few event-loop turns pass (I/O included), without a wall-clock wait. */
async function turns(count: number): Promise<void> {
  for (let i = 0; i < count; i++) await new Promise((resolve) => setImmediate(resolve));
}

// A raw client: exact bytes out, everything received kept as latin1 text.

interface RawClient {
  socket: Socket<undefined>;
  /** Everything received so far (latin1). */
  text(): string;
  write(data: string | Uint8Array): void;
  /** Resolves with the text once `done(text)` holds; rejects if the connection closes first. */
  until(done: (text: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** Resolves once the connection closed (either side). */
  closed: Promise<void>;
  isClosed(): boolean;
  /** Replaces text collection, for large bodies. */
  onBytes: ((bytes: Uint8Array) => void) | null;
  onDrain: (() => void) | null;
}

async function connect(port: number): Promise<RawClient> {
  let received = "";
  let isClosed = false;
  const closed = deferred();
  let waiters: Array<{ done: (text: string) => boolean; resolve(text: string): void; reject(error: Error): void; what: string }> = [];
  const check = () => {
    waiters = waiters.filter((w) => {
      if (w.done(received)) {
        w.resolve(received);
        return false;
      }
      if (isClosed) {
        w.reject(new Error(`the connection closed before ${w.what}; received ${JSON.stringify(received.slice(0, 600))}`));
        return false;
      }
      return true;
    });
  };
  const client: RawClient = {
    socket: undefined as unknown as Socket<undefined>,
    text: () => received,
    write: (data) => {
      const bytes = typeof data === "string" ? Buffer.from(data, "latin1") : data;
      const taken = client.socket.write(bytes);
      if (taken !== bytes.length) throw new Error(`short write (${taken} of ${bytes.length}): use a pump for large bodies`);
    },
    until: (done, what, timeoutMs = 20_000) =>
      within(
        new Promise<string>((resolve, reject) => {
          waiters.push({ done, resolve, reject, what });
          check();
        }),
        what,
        timeoutMs,
      ),
    closed: closed.promise,
    isClosed: () => isClosed,
    onBytes: null,
    onDrain: null,
  };
  client.socket = await Bun.connect({
    hostname: "127.0.0.1",
    port,
    socket: {
      data(_socket, chunk) {
        if (client.onBytes !== null) client.onBytes(chunk);
        else received += Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1");
        check();
      },
      drain() {
        client.onDrain?.();
      },
      close() {
        isClosed = true;
        closed.resolve();
        check();
      },
      error() {},
    },
  });
  onCleanup(() => client.socket.terminate());
  return client;
}

interface RawResponse {
  status: number;
  /** The head up to and including its blank line, Date replaced by "Date: <date>". */
  head: string;
  /** Names lower-cased. */
  headers: Map<string, string>;
  body: string;
}

/**
 * The complete responses at the start of `text`. `headless` says which of them (by index) answer a
 * HEAD request and so have no body whatever their headers say.
 */
function responsesIn(text: string, headless: ReadonlySet<number> = new Set()): RawResponse[] {
  const out: RawResponse[] = [];
  let at = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) return out;
    const head = text.slice(at, end + 4);
    const [statusLine = "", ...lines] = head.slice(0, -4).split("\r\n");
    const status = Number(statusLine.split(" ")[1]);
    const headers = new Map<string, string>();
    for (const line of lines) headers.set(line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim());
    let body = "";
    let next = end + 4;
    const interim = status >= 100 && status < 200;
    if (interim || headless.has(out.length) || status === 204 || status === 304) {
      // No body.
    } else if (headers.has("content-length")) {
      const length = Number(headers.get("content-length"));
      if (text.length < next + length) return out;
      body = text.slice(next, next + length);
      next += length;
    } else if (headers.get("transfer-encoding") === "chunked") {
      for (;;) {
        const lineEnd = text.indexOf("\r\n", next);
        if (lineEnd < 0) return out;
        const size = Number.parseInt(text.slice(next, lineEnd), 16);
        if (size === 0) {
          if (text.length < lineEnd + 4) return out;
          next = lineEnd + 4;
          break;
        }
        if (text.length < lineEnd + 2 + size + 2) return out;
        body += text.slice(lineEnd + 2, lineEnd + 2 + size);
        next = lineEnd + 2 + size + 2;
      }
    } else {
      // Close-delimited: complete only once the caller knows the connection closed; taken as the rest.
      body = text.slice(next);
      next = text.length;
    }
    if (!interim) out.push({ status, head: head.replace(/\r\nDate: [^\r]*\r\n/, "\r\nDate: <date>\r\n"), headers, body });
    at = next;
  }
}

const countResponses = (count: number, headless?: ReadonlySet<number>) => (text: string) => responsesIn(text, headless).length >= count;

// Basics

test("a GET is answered with its body, a Content-Length and a Date, on HTTP/1.1 keep-alive", async () => {
  const seen: IncomingRequest[] = [];
  const server = serve((request) => {
    seen.push(request);
    return ok("hello", [["Content-Type", "text/plain"]]);
  });
  const res = await fetch(`http://127.0.0.1:${server.port}/path?q=1`, { headers: { "X-Test": "yes" } });
  expect(res.status).toBe(200);
  expect(await res.text()).toBe("hello");
  expect(res.headers.get("content-length")).toBe("5");
  expect(res.headers.get("content-type")).toBe("text/plain");
  const date = res.headers.get("date") ?? "";
  expect(date).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/);
  expect(Math.abs(Date.parse(date) - Date.now())).toBeLessThan(60_000);

  expect(seen).toHaveLength(1);
  const request = seen[0]!;
  expect(request).toMatchObject({ method: "GET", target: "/path?q=1", minor: 1, host: `127.0.0.1:${server.port}`, address: "127.0.0.1", body: null });
  expect(request.bytes).toBeUndefined();
  expect(request.headers).toContainEqual(["x-test", "yes"]);
});

test("the answer on the wire is exactly status line, the handler's headers, Date and Content-Length", async () => {
  const server = serve(() => ok("hello", [["Content-Type", "text/plain"], ["X-Multi", "a"], ["X-Multi", "b"]]));
  const client = await connect(server.port);
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(1), "the answer");
  const [response] = responsesIn(client.text());
  expect(response!.head).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Multi: a\r\nX-Multi: b\r\nDate: <date>\r\nContent-Length: 5\r\n\r\n");
  expect(client.text().endsWith("\r\n\r\nhello")).toBe(true);
});

test("the handler's own Date is kept; its framing and connection headers are replaced by the server's", async () => {
  const server = serve(() =>
    ok("hello", [
      ["Date", "Tue, 01 Jan 2030 00:00:00 GMT"],
      ["Content-Length", "999"],
      ["Transfer-Encoding", "chunked"],
      ["Connection", "close"],
      ["Keep-Alive", "timeout=5"],
      ["X-Kept", "1"],
    ]),
  );
  const client = await connect(server.port);
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(1), "the answer");
  expect(client.text()).toBe("HTTP/1.1 200 OK\r\nDate: Tue, 01 Jan 2030 00:00:00 GMT\r\nX-Kept: 1\r\nContent-Length: 5\r\n\r\nhello");
  // The handler's Connection: close does not end the connection: a second request is answered.
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(2), "the second answer");
});

test("an unknown status code gets the reason phrase Unknown", async () => {
  const server = serve(() => ({ status: 299, body: "odd" }));
  const client = await connect(server.port);
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(1), "the answer");
  expect(client.text()).toStartWith("HTTP/1.1 299 Unknown\r\n");
});

// Connections

test("keep-alive: two requests one after the other on one connection are both answered", async () => {
  const seen: string[] = [];
  const server = serve((request) => {
    seen.push(request.target);
    return ok(`answer to ${request.target}`);
  });
  const client = await connect(server.port);
  client.write("GET /one HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(1), "the first answer");
  client.write("GET /two HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(2), "the second answer");
  const responses = responsesIn(client.text());
  expect(responses.map((r) => r.body)).toEqual(["answer to /one", "answer to /two"]);
  for (const response of responses) expect(response.headers.has("connection")).toBe(false);
  expect(seen).toEqual(["/one", "/two"]);
  expect(server.connections).toBe(1);
  expect(client.isClosed()).toBe(false);
});

test("pipelining: requests sent in one write are answered in order, one at a time, even when the first is slowest", async () => {
  const events: string[] = [];
  const server = serve(async (request) => {
    events.push(`call ${request.target}`);
    // The first answer takes the longest.
    if (request.target === "/1") await turns(20);
    events.push(`answer ${request.target}`);
    return ok(`${request.target}:${request.bytes === undefined ? "" : Buffer.from(request.bytes).toString()}`);
  });
  const client = await connect(server.port);
  client.write("GET /1 HTTP/1.1\r\nHost: x\r\n\r\n" + "POST /2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + "GET /3 HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(3), "three answers");
  expect(responsesIn(client.text()).map((r) => r.body)).toEqual(["/1:", "/2:abc", "/3:"]);
  expect(events).toEqual(["call /1", "answer /1", "call /2", "answer /2", "call /3", "answer /3"]);
  expect(client.isClosed()).toBe(false);
});

test("pipelined bytes that arrive while the previous answer is still draining keep their order", async () => {
  const big = new Uint8Array(32 * MiB).fill(0x62);
  const server = serve((request) => (request.target === "/big" ? { status: 200, body: big } : ok(`answer to ${request.target}`)));
  const client = await connect(server.port);
  let received = 0;
  let tail = "";
  const started = deferred();
  const done = deferred();
  client.onBytes = (bytes) => {
    received += bytes.length;
    started.resolve();
    tail = (tail + Buffer.from(bytes).toString("latin1")).slice(-4096);
    if (tail.includes("answer to /second") || tail.includes("\r\n\r\n{")) done.resolve();
  };
  client.write("GET /big HTTP/1.1\r\nHost: h\r\n\r\nGET /second HTTP/1.1\r\n");
  await within(started.promise, "the start of the big answer");
  client.write("Host: h\r\n\r\n");
  await within(done.promise, "the second answer");
  // The last answer on the connection is the one to /second.
  expect(tail.slice(tail.lastIndexOf("HTTP/1.1 "))).toStartWith("HTTP/1.1 200 OK\r\n");
  expect(tail).toEndWith("answer to /second");
  expect(received).toBeGreaterThan(32 * MiB);
});

test("Connection: close is answered with Connection: close, then the connection closes", async () => {
  const server = serve(() => ok("bye"));
  const client = await connect(server.port);
  client.write("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  await within(client.closed, "the server closing the connection");
  expect(responsesIn(client.text()).map((r) => r.head)).toEqual(["HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Length: 3\r\nConnection: close\r\n\r\n"]);
  expect(client.text()).toEndWith("bye");
});

test("a request pipelined after one with Connection: close is not answered", async () => {
  const seen: string[] = [];
  const server = serve((request) => {
    seen.push(request.target);
    return ok("x");
  });
  const client = await connect(server.port);
  client.write("GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: x\r\n\r\n");
  await within(client.closed, "the server closing the connection");
  expect(responsesIn(client.text())).toHaveLength(1);
  expect(seen).toEqual(["/last"]);
});

test("HTTP/1.0 is answered with Connection: close and closed, unless it asked for keep-alive", async () => {
  const server = serve((request) => ok(`minor ${request.minor}`));
  const plain = await connect(server.port);
  plain.write("GET / HTTP/1.0\r\n\r\n");
  await within(plain.closed, "the server closing the HTTP/1.0 connection");
  const [answer] = responsesIn(plain.text());
  expect(answer!.head).toBe("HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Length: 7\r\nConnection: close\r\n\r\n");
  expect(answer!.body).toBe("minor 0");

  const kept = await connect(server.port);
  kept.write("GET /a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  await kept.until(countResponses(1), "the first HTTP/1.0 answer");
  expect(responsesIn(kept.text())[0]!.headers.get("connection")).toBe("keep-alive");
  kept.write("GET /b HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  await kept.until(countResponses(2), "the second HTTP/1.0 answer");
  expect(kept.isClosed()).toBe(false);
});

test("a stream answer to an HTTP/1.0 client is delimited by closing the connection", async () => {
  const server = serve(() => ({ status: 200, body: streamOf("ab", "cd") }));
  const client = await connect(server.port);
  client.write("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  await within(client.closed, "the server closing the connection");
  const [response] = responsesIn(client.text());
  expect(response!.head).toBe("HTTP/1.1 200 OK\r\nDate: <date>\r\nConnection: close\r\n\r\n");
  expect(response!.body).toBe("abcd");
});

// HEAD, 204, 304

test("HEAD gets the headers with the Content-Length a GET would get, and no body", async () => {
  const server = serve(() => ok("hello world", [["Content-Type", "text/plain"]]));
  const client = await connect(server.port);
  // A body after the HEAD answer would be read as the start of the GET's.
  client.write("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(2, new Set([0])), "both answers");
  const [head, get] = responsesIn(client.text(), new Set([0]));
  expect(head!.head).toBe("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: <date>\r\nContent-Length: 11\r\n\r\n");
  expect(get!.head).toBe(head!.head);
  expect(get!.body).toBe("hello world");
  expect(client.text().split("hello world")).toHaveLength(2);
});

test("HEAD answered with a stream announces the declared length (or the handler's own) and cancels the stream", async () => {
  const cancelled = deferred();
  const server = serve((request) =>
    request.target === "/stream"
      ? { status: 200, headers: [["Content-Length", "1234"]], body: new ReadableStream<Uint8Array>({ cancel: () => cancelled.resolve() }) }
      : { status: 200, headers: [["content-length", "42"]] },
  );
  const client = await connect(server.port);
  client.write("HEAD /stream HTTP/1.1\r\nHost: x\r\n\r\nHEAD /bare HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(2, new Set([0, 1])), "both answers");
  await within(cancelled.promise, "the stream being cancelled");
  const [stream, bare] = responsesIn(client.text(), new Set([0, 1]));
  expect(stream!.headers.get("content-length")).toBe("1234");
  expect(stream!.headers.has("transfer-encoding")).toBe(false);
  expect(bare!.headers.get("content-length")).toBe("42");
  expect(client.text()).toEndWith("\r\n\r\n");
});

test("204 and 304 answers carry no body (and no Content-Length) whatever the handler gave", async () => {
  const server = serve((request) =>
    request.target === "/204" ? { status: 204, body: "dropped" } : request.target === "/304" ? { status: 304, headers: [["ETag", '"v1"']], body: "dropped too" } : ok("after"),
  );
  const client = await connect(server.port);
  client.write("GET /204 HTTP/1.1\r\nHost: x\r\n\r\nGET /304 HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(3), "three answers");
  const responses = responsesIn(client.text());
  expect(responses.map((r) => r.head)).toEqual([
    "HTTP/1.1 204 No Content\r\nDate: <date>\r\n\r\n",
    'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\nDate: <date>\r\n\r\n',
    "HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Length: 5\r\n\r\n",
  ]);
  expect(responses[2]!.body).toBe("after");
  expect(client.text()).not.toContain("dropped");
});

test("a 204 answered with a stream and a Content-Length header has no Content-Length", async () => {
  const server = serve(() => ({ status: 204, headers: [["Content-Length", "5"]], body: streamOf("hello") }));
  const client = await connect(server.port);
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(1), "the answer");
  expect(responsesIn(client.text())[0]!.head).toBe("HTTP/1.1 204 No Content\r\nDate: <date>\r\n\r\n");
});

// Request bodies

test("a small POST body arrives whole in request.bytes before the handler runs, with body null", async () => {
  const seen: IncomingRequest[] = [];
  const server = serve((request) => {
    seen.push(request);
    return ok(`got ${request.bytes?.length}`);
  });
  const res = await fetch(`http://127.0.0.1:${server.port}/up`, { method: "POST", body: "posted data" });
  expect(await res.text()).toBe("got 11");
  expect(Buffer.from(seen[0]!.bytes!).toString()).toBe("posted data");
  expect(seen[0]!.body).toBeNull();

  // Also when it arrives in pieces: the handler runs once, after the last one.
  const client = await connect(server.port);
  client.write("POST /pieces HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n012");
  await turns(5);
  expect(seen).toHaveLength(1);
  client.write("3456");
  await turns(5);
  client.write("789");
  await client.until(countResponses(1), "the answer");
  expect(seen).toHaveLength(2);
  expect(Buffer.from(seen[1]!.bytes!).toString()).toBe("0123456789");
  expect(seen[1]!.body).toBeNull();
});

test("a body larger than bufferBodyBytes arrives as request.body, a stream the handler reads", async () => {
  const seen: IncomingRequest[] = [];
  const server = serve(
    async (request) => {
      seen.push(request);
      const text = await new Response(request.body).text();
      return ok(`${text.length}:${createHash("sha256").update(text).digest("hex")}`);
    },
    { limits: { bufferBodyBytes: 1024 } },
  );
  const sent = "0123456789abcdef".repeat(10_000);
  const res = await fetch(`http://127.0.0.1:${server.port}/up`, { method: "POST", body: sent });
  expect(await res.text()).toBe(`${sent.length}:${createHash("sha256").update(sent).digest("hex")}`);
  expect(seen[0]!.bytes).toBeUndefined();
  expect(seen[0]!.body).toBeInstanceOf(ReadableStream);
});

test("a chunked body arrives as request.body, decoded, and the connection carries the next request", async () => {
  const bodies: string[] = [];
  const server = serve(async (request) => {
    bodies.push(request.body === null ? `bytes:${request.bytes?.length ?? "none"}` : await new Response(request.body).text());
    return ok("ok");
  });
  const client = await connect(server.port);
  client.write("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
  await turns(5);
  client.write("7;ext=1\r\n, world\r\n0\r\nX-Trailer: t\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(2), "both answers");
  expect(bodies).toEqual(["hello, world", "bytes:none"]);
});

test("the handler may start reading the streamed body before it has all arrived", async () => {
  const firstRead = deferred<string>();
  const rest = deferred<string>();
  const server = serve(
    async (request) => {
      const reader = request.body!.getReader();
      const first = await reader.read();
      firstRead.resolve(Buffer.from(first.value!).toString());
      let text = "";
      for (let next = await reader.read(); !next.done; next = await reader.read()) text += Buffer.from(next.value).toString();
      rest.resolve(text);
      return ok("done");
    },
    { limits: { bufferBodyBytes: 4 } },
  );
  const client = await connect(server.port);
  client.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nfirst");
  expect(await within(firstRead.promise, "the first body bytes")).toBe("first");
  client.write("later");
  expect(await within(rest.promise, "the rest of the body")).toBe("later");
  await client.until(countResponses(1), "the answer");
});

// Answer bodies

test("a stream answer without Content-Length goes out chunked; with a declared one, as that length", async () => {
  const server = serve((request) =>
    request.target === "/chunked" ? { status: 200, body: streamOf("ab", "", "cde") } : { status: 200, headers: [["Content-Length", "5"]], body: streamOf("ab", "cde") },
  );
  const client = await connect(server.port);
  client.write("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\nGET /length HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(2), "both answers");
  expect(client.text().replace(/\r\nDate: [^\r]*\r\n/g, "\r\nDate: <date>\r\n")).toBe(
    "HTTP/1.1 200 OK\r\nDate: <date>\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\n" + "HTTP/1.1 200 OK\r\nDate: <date>\r\nContent-Length: 5\r\n\r\nabcde",
  );
  const res = await fetch(`http://127.0.0.1:${server.port}/chunked`);
  expect(await res.text()).toBe("abcde");
});

test("a stream answer that does not match its declared Content-Length is cut off by closing the connection", async () => {
  const server = serve(() => ({ status: 200, headers: [["Content-Length", "10"]], body: streamOf("short") }));
  const client = await connect(server.port);
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await within(client.closed, "the server closing the connection");
  expect(client.text()).toEndWith("Content-Length: 10\r\n\r\nshort");
});

test("an answer body larger than one write arrives whole", async () => {
  const big = new Uint8Array(3 * MiB);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  const server = serve(() => ({ status: 200, body: big }));
  const res = await fetch(`http://127.0.0.1:${server.port}/`);
  expect(res.headers.get("content-length")).toBe(String(big.length));
  expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), Buffer.from(big))).toBe(0);
});

// Expect: 100-continue

test("Expect: 100-continue gets HTTP/1.1 100 Continue before the body is sent, then the answer", async () => {
  const seen: IncomingRequest[] = [];
  const server = serve((request) => {
    seen.push(request);
    return ok(`got ${Buffer.from(request.bytes ?? new Uint8Array()).toString()}`);
  });
  const client = await connect(server.port);
  client.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  expect(await client.until((text) => text.includes("\r\n\r\n"), "the interim answer")).toBe("HTTP/1.1 100 Continue\r\n\r\n");
  expect(seen).toHaveLength(0);
  client.write("hello");
  await client.until(countResponses(1), "the final answer");
  expect(client.text()).toStartWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n");
  expect(responsesIn(client.text())[0]!.body).toBe("got hello");
});

test("no 100 Continue without Expect, for HTTP/1.0, or for a body that is refused up front", async () => {
  const server = serve((request) => ok(`got ${request.bytes?.length ?? 0}`), { limits: { maxBodyBytes: 100 } });
  const client = await connect(server.port);
  client.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  client.write("POST / HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\nhi");
  await client.until(countResponses(2), "two answers");
  expect(client.text()).not.toContain("100 Continue");

  const refused = await connect(server.port);
  refused.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nExpect: 100-continue\r\n\r\n");
  await within(refused.closed, "the server closing the connection");
  expect(refused.text()).toStartWith("HTTP/1.1 413 Payload Too Large\r\n");
});

// Refusals

test("a malformed request is answered 400 with a JSON body and Connection: close, and the connection closes", async () => {
  let calls = 0;
  const server = serve(() => {
    calls++;
    return ok("never");
  });
  for (const wire of ["garbage\r\n\r\n", "GET / HTTP/1.1\r\n\r\n", "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"]) {
    const client = await connect(server.port);
    client.write(wire);
    await within(client.closed, `the server closing after ${JSON.stringify(wire)}`);
    const [response] = responsesIn(client.text());
    expect(response!.status).toBe(400);
    expect(response!.headers.get("content-type")).toBe("application/json");
    expect(response!.headers.get("connection")).toBe("close");
    const body = JSON.parse(response!.body) as { message: string; status: string };
    expect(body.status).toBe("failure");
    expect(body.message).toStartWith("<Error> ");
  }
  expect(calls).toBe(0);
});

test("requests the server cannot serve get their own status: 505, 501, 417, 431, 413", async () => {
  const server = serve(() => ok("never"), { limits: { maxHeadBytes: 1024, maxBodyBytes: 100 } });
  const cases: Array<[string, string]> = [
    ["GET / HTTP/2.0\r\nHost: x\r\n\r\n", "HTTP/1.1 505 HTTP Version Not Supported"],
    ["CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", "HTTP/1.1 501 Not Implemented"],
    ["POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", "HTTP/1.1 501 Not Implemented"],
    ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nExpect: teapot\r\n\r\nx", "HTTP/1.1 417 Expectation Failed"],
    [`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(2000)}\r\n\r\n`, "HTTP/1.1 431 Request Header Fields Too Large"],
    ["POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 101\r\n\r\n", "HTTP/1.1 413 Payload Too Large"],
  ];
  for (const [wire, statusLine] of cases) {
    const client = await connect(server.port);
    client.write(wire);
    await within(client.closed, `the server closing after ${JSON.stringify(wire.slice(0, 60))}`);
    expect(client.text()).toStartWith(`${statusLine}\r\n`);
    expect(client.text()).toContain("\r\nConnection: close\r\n");
  }
});

test("a head that never ends is answered 431 without the server waiting for its end", async () => {
  const server = serve(() => ok("never"), { limits: { maxHeadBytes: 1024 } });
  const client = await connect(server.port);
  client.write(`GET / HTTP/1.1\r\nX: ${"a".repeat(4000)}`);
  await within(client.closed, "the server closing the connection");
  expect(client.text()).toStartWith("HTTP/1.1 431 ");
});

test("a chunked body that grows past maxBodyBytes is answered 413 and its stream errors", async () => {
  const bodyError = deferred<unknown>();
  const server = serve(
    async (request) => {
      try {
        await new Response(request.body).text();
      } catch (error) {
        bodyError.resolve(error);
      }
      return ok("late");
    },
    { limits: { maxBodyBytes: 10 } },
  );
  const client = await connect(server.port);
  client.write("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n");
  await turns(5);
  client.write("8\r\n12345678\r\n");
  await within(client.closed, "the server closing the connection");
  expect(client.text()).toStartWith("HTTP/1.1 413 Payload Too Large\r\n");
  expect(client.text()).not.toContain("late");
  expect(String(await within(bodyError.promise, "the body stream's error"))).toContain("larger than 10 bytes");
});

// Handler failures

test("a handler that throws, or whose promise rejects, gets a 500 and onError with the request", async () => {
  const errors: Array<[unknown, string]> = [];
  const thrown = new Error("sync boom");
  const rejected = new Error("async boom");
  const server = serve(
    async (request) => {
      if (request.target === "/throw") throw thrown;
      await turns(1);
      throw rejected;
    },
    { onError: (error, request) => errors.push([error, request.target]) },
  );
  // (An async function that throws returns a rejected promise: this one throws synchronously.)
  const syncServer = serve(
    (request) => {
      throw new Error(`sync ${request.target}`);
    },
    { onError: (error, request) => errors.push([error, request.target]) },
  );
  for (const [port, target] of [[server.port, "/throw"], [server.port, "/reject"], [syncServer.port, "/sync"]] as const) {
    const res = await fetch(`http://127.0.0.1:${port}${target}`);
    expect(res.status).toBe(500);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ message: "<Error> internal error", status: "failure" });
  }
  expect(errors.map(([error, target]) => [(error as Error).message, target])).toEqual([
    ["sync boom", "/throw"],
    ["async boom", "/reject"],
    ["sync /sync", "/sync"],
  ]);
  expect(errors[0]![0]).toBe(thrown);
});

test("a handler header with CR/LF (or another invalid header) is answered 502 and never splits the answer", async () => {
  const cancelled = deferred();
  const server = serve((request) => {
    if (request.target === "/crlf") return ok("secret", [["X-Evil", "a\r\nSet-Cookie: pwned=1"]]);
    if (request.target === "/lf") return ok("secret", [["X-Evil", "a\nSet-Cookie: pwned=1"]]);
    if (request.target === "/name") return ok("secret", [["Bad Name", "1"]]);
    if (request.target === "/wide") return ok("secret", [["X-Wide", "snowman \u2603"]]);
    return { status: 200, headers: [["X-Evil", "a\r\n\r\nHTTP/1.1 200 OK"]], body: new ReadableStream<Uint8Array>({ cancel: () => cancelled.resolve() }) };
  });
  const client = await connect(server.port);
  const targets = ["/crlf", "/lf", "/name", "/wide", "/stream"];
  client.write(targets.map((t) => `GET ${t} HTTP/1.1\r\nHost: x\r\n\r\n`).join(""));
  await client.until(countResponses(targets.length), "all the answers");
  const responses = responsesIn(client.text());
  expect(responses.map((r) => r.status)).toEqual([502, 502, 502, 502, 502]);
  for (const response of responses) {
    expect(response.headers.get("content-type")).toBe("application/json");
    expect(JSON.parse(response.body).message).toContain("invalid response header");
  }
  expect(client.text()).not.toContain("pwned");
  expect(client.text()).not.toContain("secret");
  await within(cancelled.promise, "the stream answer being cancelled");
});

// Timeouts

test("a client that sends half a head is answered 408 after headerTimeoutMs, and the connection closes", async () => {
  let calls = 0;
  const server = serve(
    () => {
      calls++;
      return ok("never");
    },
    { limits: { headerTimeoutMs: 200 } },
  );
  const client = await connect(server.port);
  const started = performance.now();
  client.write("GET / HTTP/1.1\r\nHost:");
  await within(client.closed, "the server closing the connection");
  expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  const [response] = responsesIn(client.text());
  expect(response!.status).toBe(408);
  expect(response!.headers.get("connection")).toBe("close");
  expect(JSON.parse(response!.body).message).toContain("request head not received within 200 ms");
  expect(calls).toBe(0);
});

test("the head timeout starts again for each request on a kept-alive connection", async () => {
  const server = serve(() => ok("fine"), { limits: { headerTimeoutMs: 300 } });
  const client = await connect(server.port);
  for (let i = 0; i < 3; i++) {
    client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
    await client.until(countResponses(i + 1), `answer ${i + 1}`);
  }
  client.write("GET / HTTP/1.1\r\nHo");
  await within(client.closed, "the server closing the connection");
  expect(responsesIn(client.text()).map((r) => r.status)).toEqual([200, 200, 200, 408]);
});

test("an idle keep-alive connection is closed after idleTimeoutMs, without an answer", async () => {
  const server = serve(() => ok("fine"), { limits: { idleTimeoutMs: 300 } });
  const client = await connect(server.port);
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await client.until(countResponses(1), "the answer");
  const answeredAt = performance.now();
  await within(client.closed, "the server closing the idle connection");
  expect(performance.now() - answeredAt).toBeGreaterThanOrEqual(100);
  expect(responsesIn(client.text())).toHaveLength(1);
  expect(client.text()).toEndWith("fine");

  // A new connection that never sends anything is idle too.
  const silent = await connect(server.port);
  await within(silent.closed, "the server closing a silent connection");
  expect(silent.text()).toBe("");
  expect(server.connections).toBe(0);
});

test("a request body that makes no progress for bodyTimeoutMs is answered 408 and its stream errors", async () => {
  const bodyError = deferred<unknown>();
  const server = serve(
    async (request) => {
      try {
        await new Response(request.body).text();
      } catch (error) {
        bodyError.resolve(error);
      }
      return ok("late");
    },
    { limits: { bodyTimeoutMs: 300, bufferBodyBytes: 4 } },
  );
  const client = await connect(server.port);
  client.write("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly some");
  await within(client.closed, "the server closing the connection");
  expect(client.text()).toStartWith("HTTP/1.1 408 Request Timeout\r\n");
  expect(String(await within(bodyError.promise, "the body stream's error"))).toContain("no progress");
});

// Stopping and listening

test("stop() closes idle connections at once, lets a busy one finish its answer with Connection: close, and resolves", async () => {
  const busyCalled = deferred();
  const release = deferred();
  const server = serve(async (request) => {
    if (request.target === "/busy") {
      busyCalled.resolve();
      await release.promise;
      return ok("finished");
    }
    return ok("quick");
  });
  const idle = await connect(server.port);
  idle.write("GET /quick HTTP/1.1\r\nHost: x\r\n\r\n");
  await idle.until(countResponses(1), "the idle connection's answer");
  const busy = await connect(server.port);
  busy.write("GET /busy HTTP/1.1\r\nHost: x\r\n\r\n");
  await within(busyCalled.promise, "the busy request reaching the handler");
  expect(server.connections).toBe(2);

  let stopped = false;
  const stopping = server.stop().then(() => {
    stopped = true;
  });
  await within(idle.closed, "the idle connection being closed");
  expect(busy.isClosed()).toBe(false);
  expect(stopped).toBe(false);

  // No new connections are accepted.
  let refused: unknown;
  try {
    await Bun.connect({ hostname: "127.0.0.1", port: server.port, socket: { data() {} } }).then((s) => s.terminate());
  } catch (error) {
    refused = error;
  }
  expect(refused).toBeDefined();

  release.resolve();
  await within(busy.closed, "the busy connection closing after its answer");
  await within(stopping, "stop() resolving");
  const [answer] = responsesIn(busy.text());
  expect(answer!.body).toBe("finished");
  expect(answer!.headers.get("connection")).toBe("close");
  expect(server.connections).toBe(0);
});

test("stop() with no connections resolves at once, and stop(graceMs) closes what is still busy after the grace", async () => {
  const never = deferred<OutgoingResponse>();
  const empty = serve(() => ok("x"));
  await within(empty.stop(), "stop() of a server without connections", 2000);

  const called = deferred();
  const server = serve(() => {
    called.resolve();
    return never.promise;
  });
  const client = await connect(server.port);
  client.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  await within(called.promise, "the request reaching the handler");
  await within(server.stop(200), "stop(200) resolving");
  await within(client.closed, "the busy connection being closed");
  expect(client.text()).toBe("");
  expect(server.connections).toBe(0);
  never.resolve(ok("too late"));
});

test("listening on a port already in use throws ListenError with code EADDRINUSE", () => {
  const first = serve(() => ok("first"));
  let error: unknown;
  try {
    serve(() => ok("second"), { port: first.port });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ListenError);
  expect((error as ListenError).code).toBe("EADDRINUSE");
  expect((error as ListenError).message).toBe("the port is already in use");
});

// Clients that go away

test("a client that disconnects mid-upload errors the request.body stream the handler reads", async () => {
  const firstBytes = deferred();
  const bodyError = deferred<unknown>();
  const answered = deferred();
  const server = serve(
    async (request) => {
      const reader = request.body!.getReader();
      try {
        for (;;) {
          const next = await reader.read();
          if (next.done) break;
          firstBytes.resolve();
        }
      } catch (error) {
        bodyError.resolve(error);
      }
      answered.resolve();
      return ok("nobody reads this");
    },
    { limits: { bufferBodyBytes: 16 } },
  );
  const client = await connect(server.port);
  client.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${"x".repeat(1000)}`);
  await within(firstBytes.promise, "the first body bytes at the handler");
  client.socket.terminate();
  const error = await within(bodyError.promise, "the body stream's error");
  expect(error).toBeInstanceOf(Error);
  expect((error as Error).message).toContain("client closed the connection");
  await within(answered.promise, "the handler finishing");
  for (let i = 0; i < 100 && server.connections > 0; i++) await turns(1);
  expect(server.connections).toBe(0);
});

test("a client that half-closes after its request still gets the answer", async () => {
  const server = serve(async () => {
    await turns(2);
    return ok("answered");
  });
  const received = await within(
    new Promise<string>((resolve) => {
      let text = "";
      const socket = net.connect({ host: "127.0.0.1", port: server.port }, () => socket.end("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
      });
      socket.on("error", () => {});
      socket.on("close", () => resolve(text));
      onCleanup(() => socket.destroy());
    }),
    "the connection closing",
  );
  expect(received).toStartWith("HTTP/1.1 200 OK\r\n");
  expect(received).toContain("\r\nConnection: close\r\n");
  expect(received).toEndWith("answered");
});

test("an answer sent before the request body has all arrived is not cut short by the rest of the body", async () => {
  const answer = new Uint8Array(16 * MiB).fill(0x61);
  const server = serve(() => ({ status: 200, body: answer }), { limits: { bufferBodyBytes: 16 } });
  const client = await connect(server.port);
  let received = 0;
  const started = deferred();
  client.onBytes = (bytes) => {
    received += bytes.length;
    started.resolve();
  };
  client.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n${"x".repeat(64 * 1024)}`);
  await within(started.promise, "the start of the answer");
  client.write("y".repeat(64 * 1024));
  await within(client.closed, "the connection closing");
  expect(received).toBeGreaterThan(16 * MiB);
});

// Large transfers with backpressure

const PATTERN = crypto.getRandomValues(new Uint8Array(MiB));

/** `total` bytes from PATTERN at shifting offsets, `chunk` at a time. */
function* patternPieces(total: number, chunk: number): Generator<Uint8Array> {
  for (let sent = 0; sent < total; ) {
    const offset = (sent * 7) % (MiB - chunk);
    const piece = PATTERN.subarray(offset, offset + Math.min(chunk, total - sent));
    sent += piece.length;
    yield piece;
  }
}

test("a 32 MiB streamed upload arrives intact, and the client is held back while the handler does not read", async () => {
  const TOTAL = 32 * MiB;
  const called = deferred();
  const go = deferred();
  const server = serve(
    async (request) => {
      called.resolve();
      await go.promise;
      const hash = createHash("sha256");
      let bytes = 0;
      for await (const chunk of request.body!) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      return ok(`${bytes}:${hash.digest("hex")}`);
    },
    { limits: { bufferBodyBytes: 64 * 1024 } },
  );
  const client = await connect(server.port);
  client.write(`POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: ${TOTAL}\r\n\r\n`);
  await within(called.promise, "the handler being called");

  // The client writes as fast as the socket takes the bytes.
  const sentHash = createHash("sha256");
  const pieces = patternPieces(TOTAL, 64 * 1024);
  let accepted = 0;
  let held: Uint8Array | null = null;
  let drained: (() => void) | null = null;
  const allSent = deferred();
  const pump = () => {
    for (;;) {
      let piece = held;
      if (piece === null) {
        const next = pieces.next();
        if (next.done) {
          allSent.resolve();
          return;
        }
        piece = next.value;
        sentHash.update(piece);
      }
      const taken = Math.max(0, client.socket.write(piece));
      accepted += taken;
      held = taken < piece.length ? piece.subarray(taken) : null;
      if (held !== null) return; // wait for drain
    }
  };
  client.onDrain = () => {
    drained?.();
    pump();
  };
  pump();
  // The handler does not read: the client soon finds the socket full and it stays full (a bounded
  // wait for the absence of a drain event, as in streaming.test.ts).
  for (let quiet = false, rounds = 0; !quiet && rounds < 100; rounds++) {
    const drain = deferred<boolean>();
    drained = () => drain.resolve(true);
    const timer = setTimeout(() => drain.resolve(false), 300);
    quiet = !(await drain.promise);
    clearTimeout(timer);
  }
  drained = null;
  // Kernel buffers and the server's 256 KiB queue: a few MiB, far from the whole body.
  expect(accepted).toBeLessThan(TOTAL / 2);

  go.resolve();
  await within(allSent.promise, "the whole body being sent", 60_000);
  await client.until(countResponses(1), "the answer", 60_000);
  expect(responsesIn(client.text())[0]!.body).toBe(`${TOTAL}:${sentHash.digest("hex")}`);
});

test("a 32 MiB stream answer arrives intact, and the stream is read no faster than the client takes it", async () => {
  const TOTAL = 32 * MiB;
  const sentHash = createHash("sha256");
  let produced = 0;
  const server = serve(() => {
    const pieces = patternPieces(TOTAL, 64 * 1024);
    const body = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const next = pieces.next();
          if (next.done) {
            controller.close();
            return;
          }
          sentHash.update(next.value);
          produced += next.value.length;
          controller.enqueue(next.value.slice());
        },
      },
      { highWaterMark: 0 },
    );
    return { status: 200, headers: [["Content-Length", String(TOTAL)]], body };
  });
  const client = await connect(server.port);
  let head = "";
  let bodyBytes = 0;
  const gotHash = createHash("sha256");
  const headSeen = deferred();
  const done = deferred();
  client.onBytes = (chunk) => {
    let bytes = chunk;
    if (!head.includes("\r\n\r\n")) {
      head += Buffer.from(chunk).toString("latin1");
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      bytes = chunk.subarray(chunk.length - (head.length - end - 4));
      head = head.slice(0, end + 4);
      headSeen.resolve();
    }
    gotHash.update(bytes);
    bodyBytes += bytes.length;
    if (bodyBytes >= TOTAL) done.resolve();
  };
  client.write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  await within(headSeen.promise, "the answer's head");
  // The client stops reading: once the socket is full the server must stop pulling the stream.
  client.socket.pause();
  for (let quiet = false, rounds = 0; !quiet && rounds < 100; rounds++) {
    const before = produced;
    await new Promise((resolve) => setTimeout(resolve, 300));
    quiet = produced === before;
  }
  expect(produced).toBeLessThan(TOTAL / 2);

  client.socket.resume();
  await within(done.promise, "the whole answer", 60_000);
  expect(head).toContain(`\r\nContent-Length: ${TOTAL}\r\n`);
  expect(bodyBytes).toBe(TOTAL);
  expect(gotHash.digest("hex")).toBe(sentHash.digest("hex"));
});
