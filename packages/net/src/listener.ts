import { chmodSync, lstatSync, unlinkSync } from "node:fs";
import type { Socket, TCPSocketListener, UnixSocketListener } from "bun";
import {
  type Control,
  DEFAULT_MAX_FRAME,
  type DecodeOptions,
  type Hello,
  type LoadStats,
  type Message,
  PROTOCOL_VERSION,
  type Request,
  WireError,
} from "@switchyard/wire";
import { type Address, formatAddress } from "./address.ts";
import { Connection, socketHandlers } from "./connection.ts";
import { NetError, RequestError } from "./errors.ts";
import { probe } from "./probe.ts";
import { OutStream } from "./stream-out.ts";
import { STREAM_IDLE_MS, Streamed } from "./streamed.ts";

export type RequestHandler = (request: Request, conn: Connection) => unknown;

export interface ListenerOptions {
  address: Address;
  /** Our side of the `hello` exchange. */
  role: string;
  id: number;
  maxFrame?: number;
  /** How requests are decoded; a hop passes `lazyRequests` so bodies it only forwards stay bytes. */
  decode?: DecodeOptions;
  /**
   * Answers one request: return (or resolve to) the response body, or a Streamed to stream it;
   * throw RequestError for an error answer. A streamed request body is `request.stream`; left
   * unread when the handler is done, it is cancelled.
   */
  handle: RequestHandler;
  /** A streamed body (either way) that makes no progress for this long is aborted; default STREAM_IDLE_MS. */
  streamIdleMs?: number;
  /** False for ops that are not load (a group's own messages, status probes): kept out of the total and errors that `ping` reports. */
  counted?(op: string): boolean;
  onHello?(remote: Hello, conn: Connection): void;
  onControl?(message: Control, conn: Connection): void;
  onClose?(conn: Connection): void;
  /** Something a client sent was wrong (already answered with an error frame); for the log. */
  onProblem?(description: string): void;
  /**
   * A counted request was answered: "ok" (a streamed answer once its head went) or the error code,
   * and how long it took (metrics; set only when wanted, it costs a clock reading per request).
   */
  onAnswered?(op: string, outcome: string, durationMs: number): void;
}

export interface Listener {
  readonly address: Address;
  readonly connections: ReadonlySet<Connection>;
  stats(): LoadStats;
  /** Stop accepting connections and ask every client to send no new requests. */
  goAway(reason: string): void;
  /** Resolves true once no request is in flight, false if `timeoutMs` passed first. */
  drained(timeoutMs: number): Promise<boolean>;
  /** Closes every connection and removes the socket file. */
  close(): void;
}

/** A connection that sent this many bad (non-fatal) frames is closed with "too_many_errors". */
const MAX_BAD_FRAMES = 8;
/** Only the first few bad frames of a connection are reported (then one line when it is closed). */
const REPORTED_BAD_FRAMES = 3;

/** After a goaway, how long clients that keep their connection open may still send requests already on their way. */
export const GOAWAY_GRACE_MS = 300;

/** Accepts wire connections, answers `hello` and `ping`, and hands every request to `handle`. */
export async function listen(options: ListenerOptions): Promise<Listener> {
  const maxFrame = options.maxFrame ?? DEFAULT_MAX_FRAME;
  const connections = new Set<Connection>();
  const stats: LoadStats = { inflight: 0, total: 0, errors: 0 };
  const idleWaiters = new Set<() => void>();
  let accepting = true;
  const ourHello: Hello = { t: "hello", v: PROTOCOL_VERSION, role: options.role, id: options.id };
  const problem = (text: string) => options.onProblem?.(text);
  const streamIdleMs = options.streamIdleMs ?? STREAM_IDLE_MS;

  let goAwayAt: number | undefined;
  const finish = () => {
    stats.inflight--;
    if (stats.inflight === 0) for (const wake of idleWaiters) wake();
  };
  /** Resolves true once `condition` holds (checked whenever a request finishes or a client leaves), false at `deadline`. */
  const until = (condition: () => boolean, deadline: number): Promise<boolean> => {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (result: boolean) => {
        clearTimeout(timer);
        idleWaiters.delete(check);
        resolve(result);
      };
      const check = () => {
        if (condition()) done(true);
      };
      const timer = setTimeout(() => done(condition()), Math.max(0, deadline - performance.now()));
      idleWaiters.add(check);
    });
  };

  /** The request's streamed body, as `request.stream` (not enumerable, like rawBody: never sent on). */
  const receiveBody = (conn: Connection, request: Request) => {
    const { readable } = conn.streamTable(streamIdleMs).receive(request.id);
    Object.defineProperty(request, "stream", { value: readable, enumerable: false, writable: true, configurable: true });
    return readable;
  };

  /** The head goes now, the body as the client grants credit; the request is in flight until the body ended. */
  const answerStreamed = (conn: Connection, request: Request, answer: Streamed) => {
    if (conn.closed) {
      answer.body.cancel(new NetError("connection_lost", "the client's connection closed")).catch(() => {});
      finish();
      return;
    }
    try {
      conn.send({ t: "res", id: request.id, streamed: true, body: answer.head });
    } catch (error) {
      stats.errors++;
      const message = `answer to ${request.op} could not be encoded: ${(error as Error).message}`;
      problem(message);
      conn.send({ t: "err", id: request.id, code: "internal", message });
      answer.body.cancel(new NetError("aborted", message)).catch(() => {});
      finish();
      return;
    }
    new OutStream(request.id, answer.body, finish).start(conn.streamTable(streamIdleMs));
  };

  /** A request body the handler did not start reading is cancelled, so the client stops sending it. */
  const discardUnread = (body: ReadableStream<Uint8Array>) => {
    if (!body.locked) body.cancel(new NetError("aborted", "the handler answered without reading the request body")).catch(() => {});
  };

  const runRequest = (conn: Connection, request: Request) => {
    stats.inflight++;
    // Uncounted ops (a group's own chatter, status probes) are in flight for draining, but are not load.
    const counted = options.counted?.(request.op) !== false;
    if (counted) stats.total++;
    const answered = counted ? options.onAnswered : undefined;
    const startedAt = answered === undefined ? 0 : performance.now();
    const upload = request.streamed === true ? receiveBody(conn, request) : undefined;
    const ok = (body: unknown) => {
      answered?.(request.op, "ok", performance.now() - startedAt);
      if (body instanceof Streamed) {
        answerStreamed(conn, request, body);
        // After the answer started: an answer that streams the request body back has locked it by now.
        if (upload !== undefined) discardUnread(upload);
        return;
      }
      if (upload !== undefined) discardUnread(upload);
      finish();
      if (conn.closed) return;
      try {
        conn.send({ t: "res", id: request.id, body });
      } catch (error) {
        // A body MessagePack cannot carry (cyclic, a BigInt over 64 bits) is the handler's bug: answer it, never throw here.
        if (counted) stats.errors++;
        const message = `answer to ${request.op} could not be encoded: ${(error as Error).message}`;
        problem(message);
        conn.send({ t: "err", id: request.id, code: "internal", message });
      }
    };
    const fail = (error: unknown) => {
      if (upload !== undefined) discardUnread(upload);
      finish();
      if (counted) stats.errors++;
      const code =
        error instanceof RequestError || error instanceof WireError
          ? error.code
          : error instanceof NetError
            ? (error.remoteCode ?? error.code)
            : "internal";
      const message = error instanceof Error ? error.message : String(error);
      answered?.(request.op, code, performance.now() - startedAt);
      if (code === "internal") problem(`request ${request.op} failed: ${message}`);
      if (!conn.closed) conn.send({ t: "err", id: request.id, code, message });
    };
    try {
      const result = options.handle(request, conn);
      if (result instanceof Promise) result.then(ok, fail);
      else ok(result);
    } catch (error) {
      fail(error);
    }
  };

  // What went wrong on each connection so far, so one bad client cannot flood the log.
  const trouble = new WeakMap<Connection, { refused: boolean; badFrames: number }>();
  const troubleOf = (conn: Connection) => {
    let entry = trouble.get(conn);
    if (entry === undefined) {
      entry = { refused: false, badFrames: 0 };
      trouble.set(conn, entry);
    }
    return entry;
  };

  const refuse = (conn: Connection, code: string, message: string) => {
    const entry = troubleOf(conn);
    if (entry.refused) return;
    entry.refused = true;
    problem(message);
    conn.send({ t: "err", id: 0, code, message });
    // end() also stops the reader: the rest of what the client sent is neither refused again nor run.
    conn.end();
  };

  const onMessage = (conn: Connection, message: Message) => {
    if (conn.remote === null) {
      if (message.t !== "hello") return refuse(conn, "hello_required", `first frame was "${message.t}", expected "hello"`);
      if (message.v !== PROTOCOL_VERSION) {
        return refuse(conn, "version", `protocol version ${message.v} is not supported (this side speaks ${PROTOCOL_VERSION})`);
      }
      conn.remote = message;
      conn.send(ourHello);
      if (!accepting) conn.send({ t: "goaway", reason: "shutting down" });
      options.onHello?.(message, conn);
      return;
    }
    switch (message.t) {
      case "req":
        return runRequest(conn, message);
      case "ping":
        return conn.send({ t: "pong", id: message.id, stats: { ...stats } });
      case "ctl":
        return options.onControl?.(message, conn);
      case "data":
      case "credit":
      case "cancel":
      case "abort":
        // For a stream this connection has (any more); a frame for an unknown id is ignored.
        return conn.streams?.onFrame(message);
      case "hello":
        return problem("a second hello on one connection was ignored");
      default:
        // res/err/pong/goaway are answers; a client has no business sending them here.
        return problem(`unexpected "${message.t}" frame from a client was ignored`);
    }
  };

  const events = {
    onMessage,
    onClose(conn: Connection) {
      connections.delete(conn);
      if (connections.size === 0) for (const wake of idleWaiters) wake();
      options.onClose?.(conn);
    },
    onWireError(conn: Connection, error: WireError, fatal: boolean) {
      // The connection has already answered this frame with an error frame (and ends itself if fatal).
      if (fatal) {
        problem(`bad frame from a client (${error.code}: ${error.message}); connection closed`);
        return;
      }
      const entry = troubleOf(conn);
      entry.badFrames++;
      if (entry.badFrames <= REPORTED_BAD_FRAMES) problem(`bad frame from a client (${error.code}: ${error.message})`);
      if (entry.badFrames === MAX_BAD_FRAMES) {
        const message = `${MAX_BAD_FRAMES} bad frames on one connection; closing it`;
        problem(message);
        conn.send({ t: "err", id: 0, code: "too_many_errors", message });
        conn.end();
      }
    },
  };
  const handlers = socketHandlers((socket: Socket<Connection>) => {
    const conn = new Connection(socket, events, maxFrame, options.decode);
    socket.data = conn;
    if (!accepting) return conn.destroy();
    connections.add(conn);
  }, true);

  let address = options.address;
  let server: UnixSocketListener<Connection> | TCPSocketListener<Connection>;
  if (address.kind === "unix") {
    await claimUnixPath(address.path);
    server = Bun.listen<Connection>({ unix: address.path, socket: handlers });
    chmodSync(address.path, 0o600);
  } else {
    try {
      server = Bun.listen<Connection>({ hostname: address.host, port: address.port, socket: handlers });
    } catch (error) {
      throw new NetError("address_in_use", `cannot listen on ${formatAddress(address)}: ${(error as Error).message}`);
    }
    // Port 0 asks the kernel for a free port: report the one we got, so others can be told where to dial.
    address = { ...address, port: server.port };
  }

  let closed = false;
  // After goAway the socket path is released (Bun's stop removes the file): a successor may own it by close().
  let ownsPath = address.kind === "unix";
  return {
    address,
    connections,
    stats: () => ({ ...stats }),
    goAway(reason) {
      if (!accepting) return;
      accepting = false;
      goAwayAt = performance.now();
      server.stop(false);
      if (address.kind === "unix" && ownsPath) {
        ownsPath = false;
        removeQuietly(address.path);
      }
      for (const conn of connections) conn.send({ t: "goaway", reason });
    },
    async drained(timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      if (!(await until(() => stats.inflight === 0, deadline))) return false;
      // A request a client wrote before it read our goaway may still be on its way. Our peers close
      // their connection once nothing of theirs is in flight; others get a short grace, as the
      // double GOAWAY of HTTP/2 servers does.
      const grace = Math.min(deadline, (goAwayAt ?? performance.now()) + GOAWAY_GRACE_MS);
      await until(() => connections.size === 0, grace);
      return until(() => stats.inflight === 0, deadline);
    },
    close() {
      if (closed) return;
      closed = true;
      accepting = false;
      // End our connections first (flushing goaway and last answers), then stop the listening socket.
      for (const conn of connections) conn.end();
      server.stop(false);
      if (address.kind === "unix" && ownsPath) removeQuietly(address.path);
    },
  };
}

/** A socket file left by a dead process is removed; one a live process answers on is an error. */
async function claimUnixPath(path: string): Promise<void> {
  if (await probe({ kind: "unix", path }, 500)) {
    throw new NetError("address_in_use", `another process is listening on unix:${path}`);
  }
  // Only a stale socket may be removed: a mistyped path must never delete a user's file.
  if (!(lstatSync(path, { throwIfNoEntry: false })?.isSocket() ?? true)) {
    throw new NetError("address_in_use", `unix:${path} exists and is not a socket`);
  }
  removeQuietly(path);
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Already gone.
  }
}
