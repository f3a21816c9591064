import type { Socket, SocketHandler, TCPSocketListenOptions, TCPSocketListener } from "bun";
import { ServerConnection } from "./connection.ts";
import type { HttpServer, HttpServerLimits, ServeOptions, TlsFiles } from "./types.ts";

export const DEFAULT_LIMITS: HttpServerLimits = {
  maxHeadBytes: 64 * 1024,
  maxBodyBytes: Number.POSITIVE_INFINITY,
  bufferBodyBytes: 64 * 1024,
  headerTimeoutMs: 10_000,
  idleTimeoutMs: 60_000,
  bodyTimeoutMs: 30_000,
  maxConnections: Number.POSITIVE_INFINITY,
};

/** A whole answer for a connection refused on sight, before any request is read. */
function refusal(status: string, message: string, extra = ""): Buffer {
  const body = JSON.stringify({ message: `<Error> ${message}`, status: "failure" });
  return Buffer.from(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${extra}Connection: close\r\n\r\n${body}`, "latin1");
}

// Over maxConnections the client learns why, and when to try again; a refused address only that it is refused.
const BUSY = refusal("503 Service Unavailable", "too many connections", "Retry-After: 1\r\n");
const FORBIDDEN = refusal("403 Forbidden", "access denied");

/** What happens to a listen that fails: the caller names the flag. */
export class ListenError extends Error {
  override readonly name = "ListenError";
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
  }
}

/**
 * An HTTP/1.1 server on raw sockets (Bun.listen), for a proxy's front door: no Request, Headers
 * and Response objects per request (with them, Bun.serve's share of the load balancer's CPU was
 * the largest part of its user time), heads parsed by the same strict code as upstream answers.
 * Keep-alive, pipelining, chunked bodies both ways, 100-continue, and the timeouts and limits a
 * front door needs (408, 413, 431).
 */
export function serveHttp(options: ServeOptions): HttpServer {
  const limits: HttpServerLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const connections = new Set<ServerConnection>();
  let stopping = false;
  const host = {
    handler: options.handler,
    limits,
    get stopping() {
      return stopping;
    },
    onError: options.onError ?? (() => {}),
    closed: (conn: ServerConnection) => {
      connections.delete(conn);
      if (connections.size === 0) allClosed?.();
    },
  };
  let allClosed: (() => void) | undefined;

  const handlers: SocketHandler<ServerConnection> = {
    // A fresh Uint8Array per read: body chunks are handed out as views of it without copying.
    binaryType: "uint8array",
    open(socket: Socket<ServerConnection>) {
      // Bun cannot stop accepting for a while (HAProxy's maxconn leaves them in the backlog): answer and close instead.
      const refused = options.admit?.(socket.remoteAddress) === false ? "address" : connections.size >= limits.maxConnections ? "connections" : undefined;
      if (refused !== undefined) {
        socket.write(refused === "address" ? FORBIDDEN : BUSY);
        socket.end();
        options.onRefused?.(refused, socket.remoteAddress);
        return;
      }
      socket.setNoDelay(true);
      const conn = new ServerConnection(socket, host, socket.remoteAddress);
      socket.data = conn;
      connections.add(conn);
      if (stopping) conn.closeIfIdle();
    },
    // `data` is unset on a connection refused at the limit.
    data(socket, chunk: Uint8Array) {
      socket.data?.onData(chunk);
    },
    drain(socket) {
      socket.data?.writer.onDrain();
    },
    end(socket) {
      if (socket.data) socket.data.onEnd();
      else socket.terminate();
    },
    close(socket) {
      socket.data?.handleClose();
    },
    error(socket) {
      // Also where Bun lands when one of our callbacks threw: the framing is lost, so drop the socket.
      socket.data?.destroy();
    },
  };

  // With TLS the port is shared (SO_REUSEPORT) so that a reloaded certificate can take over on a new listener.
  const listen = (port: number, tls: TlsFiles | undefined): TCPSocketListener<ServerConnection> => {
    try {
      // reusePort works on listeners too, though bun-types lists it only for connect options.
      const listenOptions: TCPSocketListenOptions<ServerConnection> & { reusePort: boolean } = {
        hostname: options.host,
        port,
        socket: handlers,
        allowHalfOpen: true,
        tls,
        reusePort: tls !== undefined,
        data: undefined as unknown as ServerConnection,
      };
      return Bun.listen<ServerConnection>(listenOptions);
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new ListenError(code === "EADDRINUSE" ? "the port is already in use" : (error as Error).message, code);
    }
  };
  let listener = listen(options.port, options.tls);

  // One timer for every connection's timeouts, instead of one per request.
  const sweepEvery = Math.max(50, Math.min(1000, Math.min(limits.headerTimeoutMs, limits.idleTimeoutMs, limits.bodyTimeoutMs) / 4));
  const sweeper = setInterval(() => {
    const now = performance.now();
    for (const conn of connections) sweep(conn, now, limits);
  }, sweepEvery);
  sweeper.unref();

  return {
    port: listener.port,
    get connections() {
      return connections.size;
    },
    reloadTls(tls) {
      if (options.tls === undefined) throw new Error("this server does not speak TLS");
      if (stopping) return;
      const next = listen(listener.port, tls);
      // Stopped without closing its connections: they finish with the certificate they started with.
      listener.stop(false);
      listener = next;
    },
    async stop(graceMs = 10_000) {
      if (!stopping) {
        stopping = true;
        listener.stop(false);
      }
      for (const conn of connections) conn.closeIfIdle();
      if (connections.size > 0) {
        let timer: Timer | undefined;
        await new Promise<void>((resolve) => {
          allClosed = resolve;
          timer = setTimeout(resolve, graceMs);
        });
        clearTimeout(timer);
        for (const conn of connections) conn.destroy();
      }
      clearInterval(sweeper);
    },
  };
}

function sweep(conn: ServerConnection, now: number, limits: HttpServerLimits): void {
  if (conn.ending) {
    // Our FIN is sent (or waits for a slow reader): a client that never closes its side is closed for it.
    if (now - conn.bodyProgress >= limits.bodyTimeoutMs) conn.destroy();
  } else if (conn.idle) {
    if (now - conn.lastActivity >= limits.idleTimeoutMs) conn.destroy();
  } else if (conn.readingHead) {
    if (now - conn.headSince >= limits.headerTimeoutMs) conn.expire(408, `request head not received within ${limits.headerTimeoutMs} ms`);
  } else if (conn.readingBody || conn.stalledWriting) {
    if (now - conn.bodyProgress >= limits.bodyTimeoutMs) conn.expire(408, `request body made no progress for ${limits.bodyTimeoutMs} ms`);
  }
}
