// HTTP helpers for the e2e/http-*.test.ts files (not a test file itself). Run as a program
// (`bun e2e/_http.ts upstream NAME [PORT]`) it is the external upstream those tests put behind the
// proxies: a child process of the test, so it can be killed or paused like any other.
import type { Replica } from "../apps/load_balancer/src/fleet-api.ts";
import { readFileSync } from "node:fs";
import { networkInterfaces } from "node:os";
import { type Fleet, Spawned } from "@switchyard/testing";

/** One HTTP answer, read whole. */
export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface CallOptions {
  /** A string or bytes as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** `method path` against `base` ("http://127.0.0.1:5000"), bounded in time. */
export async function call(base: string, method: string, path: string, options: CallOptions = {}): Promise<Answer> {
  const { body } = options;
  const raw = body === undefined || typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body);
  const response = await fetch(base + path, {
    method,
    headers: options.headers,
    body: raw as string | Uint8Array | undefined,
    signal: AbortSignal.timeout(options.timeoutMs ?? 30_000),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** curl on PATH, if any (the tests that use it skip that one check, saying so, without it). */
export const CURL = Bun.which("curl");

/**
 * The same call made with curl, a client nobody here wrote: its status, headers (names lower-case)
 * and body. Only call it when CURL is set.
 */
export async function curl(url: string, args: string[] = []): Promise<{ status: number; headers: Map<string, string>; text: string }> {
  if (CURL === null) throw new Error("curl is not on PATH");
  // Spawned, so the afterEach clean-up kills it by pid if a test ends while it runs.
  const run = new Spawned([CURL, "--silent", "--show-error", "--noproxy", "*", "--max-time", "20", "--include", ...args, url]);
  const code = await run.exited(30_000);
  if (code !== 0) throw new Error(`curl ${args.join(" ")} ${url} exited ${code}: ${run.stderrLines.join("\n")}`);
  const out = run.stdoutText;
  const split = out.indexOf("\r\n\r\n");
  const head = out.slice(0, split).split("\r\n");
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(":");
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(head[0]?.split(" ")[1]), headers, text: out.slice(split + 4) };
}

/**
 * Writes `request` as it is on a fresh connection to `base` and returns every byte the server sent
 * until it closed the connection (at most 10 s): for what fetch() would not send or would decode.
 */
export async function rawExchange(base: string, request: string | Uint8Array): Promise<Buffer> {
  const { hostname, port } = new URL(base);
  const chunks: Buffer[] = [];
  let done!: () => void;
  const closed = new Promise<void>((resolve) => (done = resolve));
  const socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data: (_, chunk) => void chunks.push(Buffer.from(chunk)),
      close: () => done(),
      error: () => done(),
    },
  });
  socket.write(request);
  const timer = setTimeout(() => socket.end(), 10_000);
  await closed;
  clearTimeout(timer);
  return Buffer.concat(chunks);
}

/** Says, in the test's output, that one check was skipped and why. */
export function skipCheck(what: string, why: string): void {
  console.warn(`SKIPPED: ${what} (${why})`);
}

/** The seed's success and failure bodies. */
export const ok = (message: unknown) => ({ message, status: "successful" });
export const failed = (message: string) => ({ message, status: "failure" });

/** `Hello from Server: N` as the seed's /home answers it. */
export const hello = (n: number) => ok(`Hello from Server: ${n}`);

/** The server number in a /home answer, or undefined when the answer is not one. */
export function helloFrom(answer: Pick<Answer, "status" | "json">): number | undefined {
  const message = (answer.json as { message?: unknown } | undefined)?.message;
  const match = typeof message === "string" ? /^Hello from Server: (\d+)$/.exec(message) : null;
  return answer.status === 200 && match ? Number(match[1]) : undefined;
}

/** A replica of `/rep?verbose=1`: the watchdog's report, plus the load balancer's health view when flat. */
export type VerboseReplica = Replica & { healthy?: boolean };

/** GET /rep's message ({N, replicas}); fails loudly on anything but 200. */
export async function rep(base: string): Promise<{ N: number; replicas: string[] }> {
  const answer = await call(base, "GET", "/rep");
  if (answer.status !== 200) throw new Error(`GET /rep answered ${answer.status}: ${answer.text}`);
  return (answer.json as { message: { N: number; replicas: string[] } }).message;
}

/** GET /rep?verbose=1's replicas. */
export async function verboseRep(base: string, headers: Record<string, string> = {}): Promise<VerboseReplica[]> {
  const answer = await call(base, "GET", "/rep?verbose=1", { headers });
  if (answer.status !== 200) throw new Error(`GET /rep?verbose=1 answered ${answer.status}: ${answer.text}`);
  return (answer.json as { message: { replicas: VerboseReplica[] } }).message.replicas;
}

/** Polls /rep?verbose=1 (bounded) until `condition` holds on its replicas; returns them. */
export async function repUntil(base: string, condition: (replicas: VerboseReplica[]) => boolean, timeoutMs: number, what: string): Promise<VerboseReplica[]> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const replicas = await verboseRep(base);
    if (condition(replicas)) return replicas;
    if (performance.now() > deadline) throw new Error(`no ${what} within ${timeoutMs} ms; /rep?verbose=1: ${JSON.stringify(replicas)}`);
    await Bun.sleep(100);
  }
}

/** The fleet's HTTP front door, "http://127.0.0.1:<port>". */
export function baseOf(fleet: Fleet): string {
  return fleet.httpUrl();
}

/** The port of a base URL. */
export function portOf(base: string): number {
  return Number(new URL(base).port);
}

/** A non-loopback IPv4 address of this machine, if it has one. */
export function nonLoopbackAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) if (address.family === "IPv4" && !address.internal) return address.address;
  }
  return undefined;
}

export interface LoadResult {
  status: number;
  text: string;
  /** Milliseconds since the load started. */
  startedMs: number;
  endedMs: number;
}

export interface Load {
  readonly results: LoadResult[];
  /** Resolves once `count` requests have finished (bounded). */
  waitFor(count: number, timeoutMs: number): Promise<void>;
  /** Lets each loop finish its current request, then resolves with every result. */
  stop(): Promise<LoadResult[]>;
  /** Milliseconds since the load started (the clock of `startedMs` / `endedMs`). */
  now(): number;
}

/**
 * `loops` concurrent loops of `method` (GET) `path` (/home), each one request at a time, until stopped, `perLoop`
 * requests were made, or `maxMs` passed: the continuous load of a user's traffic.
 */
export function startLoad(base: string, options: { loops: number; method?: string; path?: string; perLoop: number; maxMs: number }): Load {
  const t0 = performance.now();
  const now = () => performance.now() - t0;
  const results: LoadResult[] = [];
  const waiters: Array<() => void> = [];
  let stopping = false;
  const loop = async () => {
    for (let i = 0; i < options.perLoop && !stopping && now() < options.maxMs; i++) {
      const startedMs = now();
      let status = 0;
      let text = "";
      try {
        const method = options.method ?? "GET";
        const body = method === "GET" || method === "HEAD" ? undefined : "{}";
        const response = await fetch(base + (options.path ?? "/home"), { method, body, signal: AbortSignal.timeout(15_000) });
        status = response.status;
        text = await response.text();
      } catch (error) {
        text = String(error);
      }
      results.push({ status, text, startedMs, endedMs: now() });
      for (const waiter of [...waiters]) waiter();
    }
  };
  const done = Promise.all(Array.from({ length: options.loops }, loop));
  void done.then(() => {
    for (const waiter of [...waiters]) waiter();
  });
  let finished = false;
  void done.then(() => (finished = true));
  return {
    results,
    now,
    waitFor(count, timeoutMs) {
      if (results.length >= count) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = () => {
          if (results.length < count && !finished) return;
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          if (results.length >= count) resolve();
          else reject(new Error(`the load ended after ${results.length} of ${count} requests`));
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`only ${results.length} of ${count} requests finished within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.push(check);
      });
    },
    async stop() {
      stopping = true;
      await done;
      return results;
    },
  };
}

/** Resident memory of a process in MiB (VmRSS in /proc/<pid>/status), or 0 once it is gone. */
export function rssMiB(pid: number): number {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Samples the RSS of `pids` every `everyMs` until stopped; `stop` returns the peak of each, in MiB. */
export function sampleRss(pids: readonly number[], everyMs = 25): { stop(): number[] } {
  const peaks = pids.map(rssMiB);
  const timer = setInterval(() => pids.forEach((pid, i) => (peaks[i] = Math.max(peaks[i]!, rssMiB(pid)))), everyMs);
  return {
    stop() {
      clearInterval(timer);
      pids.forEach((pid, i) => (peaks[i] = Math.max(peaks[i]!, rssMiB(pid))));
      return peaks;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Large bodies: 1 MiB blocks of fixed pseudo-random bytes, each stamped with its index, so a lost,
// repeated or reordered block changes the checksum.

export const MIB = 1024 * 1024;

let baseBlock: Uint8Array | undefined;

/** Block `i` of a large body (a fresh copy each call: streams may hold on to it). */
export function blockOf(i: number): Uint8Array {
  if (baseBlock === undefined) {
    const words = new Uint32Array(MIB / 4);
    let x = 0x9e3779b9;
    for (let k = 0; k < words.length; k++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[k] = x >>> 0;
    }
    baseBlock = new Uint8Array(words.buffer);
  }
  const block = baseBlock.slice();
  new DataView(block.buffer).setUint32(0, i);
  return block;
}

/** A stream of `mib` blocks, produced as it is read (never all in memory). */
export function largeBody(mib: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream({
    pull(controller) {
      if (i < mib) controller.enqueue(blockOf(i++));
      else controller.close();
    },
  });
}

/** sha256 (hex) of the `mib`-block large body. */
export function largeBodySha256(mib: number): string {
  const hasher = new Bun.CryptoHasher("sha256");
  for (let i = 0; i < mib; i++) hasher.update(blockOf(i));
  return hasher.digest("hex");
}

/** Reads a stream to its end without keeping it: its length and sha256. */
export async function digestStream(stream: ReadableStream<Uint8Array>): Promise<{ bytes: number; sha256: string }> {
  const hasher = new Bun.CryptoHasher("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    hasher.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hasher.digest("hex") };
}

// ---------------------------------------------------------------------------------------------
// The external upstream.

/** What the upstream's echo answer says it received. */
export interface Echo {
  upstream: string;
  method: string;
  /** Path and query exactly as they arrived. */
  target: string;
  /** Every header as received (names lower-case). */
  headers: Array<[string, string]>;
  body: string;
}

export interface Upstream {
  readonly process: Spawned;
  readonly name: string;
  /** "http://127.0.0.1:<port>" */
  readonly url: string;
  readonly port: number;
}

/**
 * Starts the upstream program below as a child process (`port` 0: any free port) and waits for its
 * "listening" line. killAllSpawned (cleanUpAfterEach) stops it after the test.
 */
export async function startUpstream(name: string, port = 0): Promise<Upstream> {
  const child = new Spawned([process.execPath, import.meta.path, "upstream", name, String(port)]);
  const line = await child.waitForLine(/^listening on http:\/\/127\.0\.0\.1:\d+$/, 20_000);
  const url = line.slice("listening on ".length);
  return { process: child, name, url, port: portOf(url) };
}

/** Tells a running upstream what its health paths answer from now on. */
export async function setUpstreamHealth(upstream: Upstream, status: number): Promise<void> {
  const answer = await call(upstream.url, "POST", `/_control/health/${status}`);
  if (answer.status !== 200) throw new Error(`the upstream refused the health change: ${answer.status} ${answer.text}`);
}

/**
 * The upstream: paths starting with /health answer the current health status (200 until changed
 * through POST /_control/health/<status>) and log "health <path> <status>"; GET /slow?ms=N answers
 * after N ms; GET /download?mib=N streams the N-block large body; POST /upload answers the length
 * and sha256 of what it received; anything else is echoed as JSON (status from X-Want-Status).
 * /slow and echoes say `Cache-Control: no-store` unless the request's X-Want-Cache-Control says otherwise.
 */
function serveUpstream(name: string, port: number): void {
  let healthStatus = 200;
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    idleTimeout: 0,
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    async fetch(request) {
      const url = new URL(request.url);
      const target = url.pathname + url.search;
      const tag = { "x-upstream": name };
      if (url.pathname.startsWith("/_control/health/")) {
        healthStatus = Number(url.pathname.slice("/_control/health/".length));
        return new Response("ok\n", { headers: tag });
      }
      if (url.pathname.startsWith("/health")) {
        console.log(`health ${url.pathname} ${healthStatus}`);
        return new Response(healthStatus < 300 ? "ok\n" : "sick\n", { status: healthStatus, headers: tag });
      }
      if (url.pathname === "/slow") {
        const ms = Number(url.searchParams.get("ms") ?? 10_000);
        console.log(`slow request started (${ms} ms)`);
        await Bun.sleep(ms);
        return new Response("slow answer\n", { headers: { ...tag, "cache-control": request.headers.get("x-want-cache-control") ?? "no-store" } });
      }
      if (url.pathname === "/download") {
        const mib = Number(url.searchParams.get("mib") ?? 1);
        return new Response(largeBody(mib), { headers: { ...tag, "content-type": "application/octet-stream", "content-length": String(mib * MIB) } });
      }
      if (url.pathname === "/upload") {
        const digest = request.body === null ? { bytes: 0, sha256: "" } : await digestStream(request.body);
        console.log(`upload of ${digest.bytes} bytes`);
        return Response.json(digest, { headers: tag });
      }
      const headers: Array<[string, string]> = [];
      request.headers.forEach((value, key) => headers.push([key, value]));
      const echo: Echo = { upstream: name, method: request.method, target, headers, body: await request.text() };
      console.log(`echo ${request.method} ${target}`);
      const status = Number(request.headers.get("x-want-status") ?? 200);
      return Response.json(echo, { status, headers: { ...tag, "cache-control": request.headers.get("x-want-cache-control") ?? "no-store" } });
    },
  });
  console.log(`listening on http://127.0.0.1:${server.port}`);
}

if (import.meta.main) {
  const [mode, name = "upstream", port = "0"] = process.argv.slice(2);
  if (mode !== "upstream") {
    console.error("usage: bun e2e/_http.ts upstream NAME [PORT]");
    process.exit(64);
  }
  serveUpstream(name, Number(port));
}
