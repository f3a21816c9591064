import type { Socket, SocketHandler } from "bun";
import { type DecodeOptions, FrameReader, type Hello, type Message, type WireError } from "@switchyard/wire";
import { NetError } from "./errors.ts";
import { FrameWriter } from "./frame-writer.ts";
import { StreamTable } from "./stream-table.ts";

export interface ConnectionEvents {
  onMessage(conn: Connection, message: Message): void;
  onClose(conn: Connection, reason: string): void;
  /** Bad bytes from the other side; the connection has already answered with an error frame. */
  onWireError?(conn: Connection, error: WireError, fatal: boolean): void;
}

/** How long `end()` waits for queued frames to leave before it drops the connection. */
const END_TIMEOUT_MS = 5000;

/**
 * Read backpressure (listener side): with more than PAUSE_READS_AT bytes of answers waiting for
 * the other side to read them, stop reading its requests; read again below RESUME_READS_AT.
 */
export const PAUSE_READS_AT = 1024 * 1024;
export const RESUME_READS_AT = 256 * 1024;

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
  /** Reading is paused until the other side takes our backlog (see socketHandlers). */
  readsPaused = false;
  /** The streamed bodies on this connection; null until the first one (see streamTable). */
  streams: StreamTable | null = null;
  private ending = false;
  /** The timer of `end()` that drops a peer which stopped reading; cleared once the connection is gone. */
  private giveUp: Timer | null = null;

  constructor(
    readonly socket: Socket<Connection>,
    private readonly events: ConnectionEvents,
    maxFrame: number,
    decode: DecodeOptions = {},
  ) {
    this.writer = new FrameWriter(socket);
    this.reader = new FrameReader({
      maxFrame,
      decode,
      onMessage: (message) => this.events.onMessage(this, message),
      onError: (error, fatal) => {
        this.send({ t: "err", id: error.requestId, code: error.code, message: error.message });
        // A bad frame about a stream (a chunk over the limit, …) ends that stream rather than leaving it to stall.
        if (error.requestId !== 0) this.streams?.failId(error.requestId, new NetError("aborted", `bad frame for stream ${error.requestId}: ${error.message}`));
        this.events.onWireError?.(this, error, fatal);
        if (fatal) this.end();
      },
    });
  }

  send(message: Message): void {
    this.writer.send(message);
  }

  /** The connection's streams, created on first use; `idleMs` applies to every stream on it. */
  streamTable(idleMs: number): StreamTable {
    this.streams ??= new StreamTable((message) => this.writer.send(message), idleMs);
    return this.streams;
  }

  /**
   * Flushes what is queued, then closes the write side; `close` follows when the other side is done.
   * Nothing the other side sends after this is acted on (its frames are not even decoded).
   */
  end(): void {
    if (this.closed || this.ending) return;
    this.ending = true;
    this.reader.stop();
    // Before the flush, so the other side is told which of its streams broke off.
    this.streams?.closeAll(new NetError("connection_lost", "the connection is closing"));
    this.writer.flush();
    // Last answers may still wait for `drain`: end once they are out, or give up on a peer that stopped reading.
    this.giveUp = setTimeout(() => {
      this.giveUp = null;
      this.destroy();
    }, END_TIMEOUT_MS);
    this.writer.whenFlushed(() => {
      this.clearGiveUp();
      this.socket.end();
    });
  }

  /** Closes at once, dropping anything not yet written. */
  destroy(): void {
    if (this.closed) return;
    this.clearGiveUp();
    this.reader.stop();
    this.writer.close();
    this.socket.terminate();
  }

  /** Called by the socket handlers; exactly once. */
  handleClose(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.clearGiveUp();
    this.reader.stop();
    this.writer.close();
    this.streams?.closeAll(new NetError("connection_lost", `connection closed (${reason})`));
    this.events.onClose(this, reason);
  }

  private clearGiveUp(): void {
    if (this.giveUp === null) return;
    clearTimeout(this.giveUp);
    this.giveUp = null;
  }
}

/**
 * Socket callbacks shared by every connection (Bun recommends one handler object for many sockets).
 *
 * With `readBackpressure`, a socket whose connection has more than PAUSE_READS_AT bytes queued for
 * writing after a chunk was read is paused, so a client that sends requests but never reads the
 * answers cannot make us run its requests and buffer every answer; it is resumed on `drain` once
 * the backlog is below RESUME_READS_AT. Only for the answering side (the listener): a dialling
 * side that stopped reading answers because its requests are backed up could deadlock with an
 * upstream that stopped reading requests because its answers are backed up.
 */
export function socketHandlers(open?: (socket: Socket<Connection>) => void, readBackpressure = false): SocketHandler<Connection> {
  return {
    open,
    // A plain ArrayBuffer per read: views into it are cheap, where views into a Buffer chunk made
    // the engine materialise its backing store first (that was a tenth of a hop's CPU).
    binaryType: "arraybuffer",
    data(socket, chunk) {
      const conn = socket.data;
      conn.reader.push(new Uint8Array(chunk));
      if (readBackpressure && conn.writer.backlog > PAUSE_READS_AT && !conn.readsPaused && !conn.closed) {
        // Hand the kernel what it takes now: pause only if it really is backed up, i.e. a `drain`
        // (which resumes) is coming. A backlog that leaves in full needs no pause.
        conn.writer.flush();
        if (conn.writer.backlog > PAUSE_READS_AT) {
          conn.readsPaused = true;
          socket.pause();
        }
      }
    },
    drain(socket) {
      const conn = socket.data;
      conn.writer.onDrain();
      if (conn.readsPaused && conn.writer.backlog < RESUME_READS_AT) {
        conn.readsPaused = false;
        socket.resume();
      }
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
