import { describeSocketError } from "@switchyard/net";
import type { Socket, SocketHandler } from "bun";
import { ByteWriter } from "./byte-writer.ts";
import { HttpClientError, type HttpClientErrorCode } from "./errors.ts";
import type { OriginAddress } from "./origin-url.ts";

/** What a connection tells its pool, and the exchange it carries. */
export interface ConnectionOwner {
  /** Exactly once per connection, whoever closed it. */
  connectionClosed(conn: HttpConnection): void;
}

/** The exchange a connection carries right now. */
export interface ConnectionUser {
  onData(chunk: Uint8Array): void;
  onClosed(reason: string): void;
  /** Ends the exchange with this error code (the Origin is closing); the connection is dropped. */
  fail(code: HttpClientErrorCode, why: string): void;
}

/**
 * One keep-alive socket to an upstream, carrying one exchange at a time. The socket's events go
 * to the current exchange; bytes arriving while nobody asked (idle) break the connection.
 */
export class HttpConnection {
  socket: Socket<HttpConnection> | null = null;
  readonly writer: ByteWriter;
  closed = false;
  /** Exchanges started on this connection: above zero, the upstream may have dropped it while idle. */
  uses = 0;
  /** When it went back to the idle pool (performance.now()). */
  idleSince = 0;
  user: ConnectionUser | null = null;
  /** The connect attempt was given up (timed out): close the socket as soon as it opens. */
  abandoned = false;
  private paused = false;

  constructor(private readonly owner: ConnectionOwner) {
    this.writer = new ByteWriter({ write: (data) => (this.socket === null ? -1 : this.socket.write(data)) });
  }

  attach(socket: Socket<HttpConnection>): void {
    this.socket = socket;
    if (this.abandoned) this.destroy("connect timed out");
  }

  onData(chunk: Uint8Array): void {
    if (this.closed) return;
    if (this.user === null) this.destroy("unexpected bytes on an idle connection");
    else this.user.onData(chunk);
  }

  /** Stop reading: the consumer of the response body is behind. */
  pause(): void {
    if (this.paused || this.closed) return;
    this.paused = true;
    this.socket?.pause();
  }

  resume(): void {
    if (!this.paused || this.closed) return;
    this.paused = false;
    this.socket?.resume();
  }

  /** Idle sockets do not keep the process alive. */
  setRef(ref: boolean): void {
    if (ref) this.socket?.ref();
    else this.socket?.unref();
  }

  /** Closes at once; the close is reported synchronously (the pool frees the slot now). */
  destroy(reason: string): void {
    if (this.closed) return;
    this.socket?.terminate();
    this.handleClose(reason);
  }

  /** Called by the socket handlers and `destroy`; acts once. */
  handleClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.close();
    const user = this.user;
    this.user = null;
    user?.onClosed(reason);
    this.owner.connectionClosed(this);
  }
}

// One handler object for every socket (Bun recommends sharing it).
const handlers: SocketHandler<HttpConnection> = {
  // A fresh Uint8Array per read: body chunks are handed out as views of it without copying.
  binaryType: "uint8array",
  open(socket) {
    socket.data.attach(socket);
  },
  data(socket, chunk: Uint8Array) {
    socket.data.onData(chunk);
  },
  drain(socket) {
    socket.data.writer.onDrain();
  },
  // The upstream's FIN: for a close-delimited body that is the end of the response.
  end(socket) {
    socket.data.destroy("closed by the upstream");
  },
  close(socket, error) {
    socket.data.handleClose(error ? describeSocketError(error) : "closed by the upstream");
  },
  error(socket, error) {
    // Bun also lands here when one of our callbacks threw: the framing is lost, so drop the socket.
    socket.data.destroy(describeSocketError(error));
  },
};

/** Opens one connection; rejects with connect_failed (sent=false) within `timeoutMs`. */
export async function connect(address: OriginAddress, owner: ConnectionOwner, timeoutMs: number): Promise<HttpConnection> {
  const conn = new HttpConnection(owner);
  const attempt =
    address.kind === "unix"
      ? Bun.connect<HttpConnection>({ unix: address.path, socket: handlers, data: conn })
      : Bun.connect<HttpConnection>({ hostname: address.host, port: address.port, socket: handlers, data: conn });
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      conn.abandoned = true;
      if (conn.socket !== null) conn.destroy("connect timed out");
      reject(new HttpClientError("connect_failed", `${address.label}: connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    const socket = await Promise.race([attempt, timeout]);
    if (address.kind === "tcp") socket.setNoDelay(true);
    return conn;
  } catch (error) {
    if (error instanceof HttpClientError) throw error;
    throw new HttpClientError("connect_failed", `${address.label}: ${describeSocketError(error)}`, false, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
