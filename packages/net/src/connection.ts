import type { Socket, SocketHandler } from "bun";
import { FrameReader, type Hello, type Message, type WireError } from "@switchyard/wire";
import { FrameWriter } from "./frame-writer.ts";

export interface ConnectionEvents {
  onMessage(conn: Connection, message: Message): void;
  onClose(conn: Connection, reason: string): void;
  /** Bad bytes from the other side; the connection has already answered with an error frame. */
  onWireError?(conn: Connection, error: WireError, fatal: boolean): void;
}

/** How long `end()` waits for queued frames to leave before it drops the connection. */
const END_TIMEOUT_MS = 5000;

/**
 * One socket with its frame reader and batching writer. Both ends of every hop use it: the
 * listener for accepted sockets, the peer for dialled ones.
 */
export class Connection {
  readonly writer: FrameWriter;
  readonly reader: FrameReader;
  /** The other side's `hello`, once it arrived. */
  remote: Hello | null = null;
  closed = false;
  private ending = false;

  constructor(
    readonly socket: Socket<Connection>,
    private readonly events: ConnectionEvents,
    maxFrame: number,
  ) {
    this.writer = new FrameWriter(socket);
    this.reader = new FrameReader({
      maxFrame,
      onMessage: (message) => this.events.onMessage(this, message),
      onError: (error, fatal) => {
        this.send({ t: "err", id: error.requestId, code: error.code, message: error.message });
        this.events.onWireError?.(this, error, fatal);
        if (fatal) this.end();
      },
    });
  }

  send(message: Message): void {
    this.writer.send(message);
  }

  /** Flushes what is queued, then closes the write side; `close` follows when the other side is done. */
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    this.writer.flush();
    // Last answers may still wait for `drain`: end once they are out, or give up on a peer that stopped reading.
    const giveUp = setTimeout(() => this.destroy(), END_TIMEOUT_MS);
    this.writer.whenFlushed(() => {
      clearTimeout(giveUp);
      this.socket.end();
    });
  }

  /** Closes at once, dropping anything not yet written. */
  destroy(): void {
    if (this.closed) return;
    this.writer.close();
    this.socket.terminate();
  }

  /** Called by the socket handlers; exactly once. */
  handleClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.writer.close();
    this.events.onClose(this, reason);
  }
}

/** Socket callbacks shared by every connection (Bun recommends one handler object for many sockets). */
export function socketHandlers(open?: (socket: Socket<Connection>) => void): SocketHandler<Connection> {
  return {
    open,
    data(socket, chunk) {
      socket.data.reader.push(chunk);
    },
    drain(socket) {
      socket.data.writer.onDrain();
    },
    close(socket, error) {
      socket.data?.handleClose(error ? describeSocketError(error) : "closed by peer");
    },
    error(socket, error) {
      socket.data?.handleClose(describeSocketError(error));
      // Bun also lands here when one of our callbacks threw, with the socket still open and its framing lost.
      socket.terminate();
    },
  };
}

/** "connection refused", "no such socket", … from a Bun/Node error object. */
export function describeSocketError(error: unknown): string {
  const code = (error as { code?: string } | null)?.code;
  switch (code) {
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOENT":
      return "no such socket";
    case "ECONNRESET":
      return "connection reset";
    case "EPIPE":
      return "broken pipe";
    case "ETIMEDOUT":
      return "timed out";
    default:
      return (error as Error | null)?.message ?? String(error);
  }
}
