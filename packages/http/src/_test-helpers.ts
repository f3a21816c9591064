// Shared by this package's tests only; never exported from index.ts.
import { afterEach } from "bun:test";
import type { Socket } from "bun";
import { HttpClientError } from "./errors.ts";

const cleanups: Array<() => void> = [];

/** Runs `cleanup` after the current test, whatever its outcome (servers, origins). */
export function onCleanup(cleanup: () => void): void {
  cleanups.push(cleanup);
}

/** Call once per test file: after each test, runs its clean-ups, last first, every one even if one throws. */
export function useCleanups(): void {
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        cleanup();
      } catch {
        // Keep cleaning.
      }
    }
  });
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

/** Resolves with `promise`, or rejects naming `what` if it takes longer than `timeoutMs`. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The HttpClientError a promise rejects with (fails the test if it resolves or throws something else). */
export async function clientErrorOf(promise: Promise<unknown>): Promise<HttpClientError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HttpClientError) return error;
    throw error;
  }
  throw new Error("expected the promise to reject with HttpClientError");
}

export interface RawRequest {
  method: string;
  target: string;
  /** Names lower-cased. */
  headers: Map<string, string>;
  body: Uint8Array;
  /** 0 for the first request on its connection. */
  indexOnConnection: number;
  connectionId: number;
}

export interface RawConn {
  id: number;
  buffer: Uint8Array;
  served: number;
}

export interface RawServer {
  url: string;
  port: number;
  /** Connections accepted so far. */
  connections: number;
  /** Requests parsed so far (whether or not they were answered). */
  requests: RawRequest[];
  /** Connections closed so far (by either side). */
  closes: number;
  /** Resolves once `count` connections have closed. */
  whenClosed(count: number): Promise<void>;
  stop(): void;
}

/**
 * A Bun.listen server on 127.0.0.1 that parses requests (Content-Length bodies only) and lets the
 * test answer each with arbitrary bytes: chunked, close-delimited, malformed, partial or nothing.
 */
export function startRawServer(respond: (socket: Socket<RawConn>, request: RawRequest) => void): RawServer {
  let nextId = 0;
  const closeWaiters: Array<{ count: number; resolve(): void }> = [];
  const state: RawServer = {
    url: "",
    port: 0,
    connections: 0,
    requests: [],
    closes: 0,
    whenClosed: (count) =>
      state.closes >= count ? Promise.resolve() : new Promise<void>((resolve) => closeWaiters.push({ count, resolve })),
    stop: () => listener.stop(true),
  };
  const listener = Bun.listen<RawConn>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        state.connections++;
        socket.data = { id: nextId++, buffer: new Uint8Array(0), served: 0 };
      },
      close() {
        state.closes++;
        for (const waiter of closeWaiters.filter((w) => state.closes >= w.count)) waiter.resolve();
      },
      data(socket, chunk) {
        const conn = socket.data;
        conn.buffer = Buffer.concat([conn.buffer, chunk]);
        for (;;) {
          const text = Buffer.from(conn.buffer).toString("latin1");
          const end = text.indexOf("\r\n\r\n");
          if (end < 0) return;
          const lines = text.slice(0, end).split("\r\n");
          const [method = "", target = ""] = (lines[0] ?? "").split(" ");
          const headers = new Map<string, string>();
          for (const line of lines.slice(1)) {
            const colon = line.indexOf(":");
            headers.set(line.slice(0, colon).toLowerCase(), line.slice(colon + 1).trim());
          }
          const length = Number(headers.get("content-length") ?? 0);
          if (conn.buffer.length < end + 4 + length) return;
          const body = conn.buffer.slice(end + 4, end + 4 + length);
          conn.buffer = conn.buffer.slice(end + 4 + length);
          const request = { method, target, headers, body, indexOnConnection: conn.served++, connectionId: conn.id };
          state.requests.push(request);
          respond(socket, request);
        }
      },
    },
  });
  state.port = listener.port;
  state.url = `http://127.0.0.1:${listener.port}`;
  onCleanup(() => listener.stop(true));
  return state;
}

/** A keep-alive response with a Content-Length body. */
export function okResponse(body: string, extraHeaders = ""): string {
  return `HTTP/1.1 200 OK\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n${body}`;
}

/** A TCP port on 127.0.0.1 that nothing listens on right now. */
export function closedPort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** Reads a whole body as text. */
export async function text(body: ReadableStream<Uint8Array> | null): Promise<string> {
  return body === null ? "" : await new Response(body).text();
}
