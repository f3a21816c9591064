import {
  type Control,
  DEFAULT_MAX_FRAME,
  encodeBody,
  type Hello,
  type LoadStats,
  type Message,
  PROTOCOL_VERSION,
  type Request,
  type Response,
} from "@switchyard/wire";
import { type Address, formatAddress } from "./address.ts";
import { type BackoffOptions, createBackoff } from "./backoff.ts";
import type { Connection } from "./connection.ts";
import { dial } from "./dial.ts";
import { NetError } from "./errors.ts";
import { OutStream } from "./stream-out.ts";
import { STREAM_IDLE_MS, Streamed } from "./streamed.ts";

export type PeerState = "connecting" | "open" | "draining" | "down" | "closed";

export interface PeerOptions {
  address: Address;
  /** Our side of the `hello` exchange. */
  role: string;
  id: number;
  maxFrame?: number;
  connectTimeoutMs?: number;
  /** Default deadline for a request that names none. */
  timeoutMs?: number;
  backoff?: BackoffOptions;
  /** Resolve requests with the answer's bytes (RawBody), for a hop that passes answers on unread. */
  rawResponses?: boolean;
  /** A streamed body (either way) that makes no progress for this long is aborted; default STREAM_IDLE_MS. */
  streamIdleMs?: number;
  /** false: a lost connection is final (the child's lifeline to its watchdog). */
  reconnect?: boolean;
  /** Called once per transition (down → open, open → down, …) with a human reason. */
  onStateChange?(state: PeerState, reason: string): void;
  /** An answer came for a request that is not waiting (answered already, or given up on). */
  onStrayAnswer?(id: number): void;
  onControl?(message: Control): void;
}

interface Pending {
  resolve(body: unknown): void;
  reject(error: NetError): void;
  deadline: number;
  /** The request's streamed body, being sent or waiting for the connection to open. */
  upload?: OutStream;
}

const SWEEP_MS = 20;

/**
 * One persistent connection to one upstream, shared by every request to it: requests are
 * pipelined and matched by id, each has a deadline, and a lost connection is re-dialled with
 * backoff. While it is not open, requests fail at once with "unavailable" so callers fail over.
 */
export class Peer {
  readonly address: Address;
  private conn: Connection | null = null;
  private stateValue: PeerState = "connecting";
  private readonly pending = new Map<number, Pending>();
  private queued: Message[] = [];
  /** Streamed request bodies that wait for the upstream's hello before their first byte is read. */
  private unstarted: OutStream[] = [];
  private nextId = 1;
  private sweeper: Timer | null = null;
  private retryTimer: Timer | null = null;
  /** Runs while a dialled connection waits for the upstream's hello. */
  private helloTimer: Timer | null = null;
  private readonly backoff;
  private readonly options: PeerOptions;
  private reportedDown = false;

  constructor(options: PeerOptions) {
    this.options = options;
    this.address = options.address;
    this.backoff = createBackoff(options.backoff ?? { initialMs: 10, maxMs: 1000 });
    this.connect();
  }

  get state(): PeerState {
    return this.stateValue;
  }
  /** Open and not draining: new requests may be sent. */
  get available(): boolean {
    return this.stateValue === "open";
  }
  get inflight(): number {
    return this.pending.size;
  }

  /**
   * Sends `op` and resolves to the response body, or to a Streamed when the upstream streams its
   * answer; rejects with NetError. `key` (the client id) travels in the envelope, so hops can route
   * without decoding the body. With `stream`, `body` is the head and `stream` follows as the rest of
   * the body (see requestStreamed). `timeoutMs` runs until the answer's head arrives.
   */
  request(op: string, body: unknown, timeoutMs = this.options.timeoutMs ?? 5000, key?: number, stream?: ReadableStream<Uint8Array>): Promise<unknown> {
    const state = this.stateValue;
    if (state !== "open" && state !== "connecting") {
      return Promise.reject(new NetError("unavailable", `${formatAddress(this.address)} is ${state}`));
    }
    if (stream !== undefined) return this.requestStreamed(op, body, timeoutMs, key, stream);
    const id = this.allocateId();
    return new Promise((resolve, reject) => {
      // Send first: a body MessagePack cannot carry throws here, rejecting this promise with nothing left pending.
      this.send(key === undefined ? { t: "req", id, op, body, ttl: timeoutMs } : { t: "req", id, op, key, body, ttl: timeoutMs });
      this.pending.set(id, { resolve, reject, deadline: performance.now() + timeoutMs });
      this.armSweeper();
    });
  }

  /**
   * The source is read only once the upstream's hello arrived, so a request that fails before
   * then (not connected, connection lost or refused, timed out) has not touched `stream`: failing
   * with "unavailable", it may be sent elsewhere with the same stream.
   */
  private requestStreamed(op: string, body: unknown, timeoutMs: number, key: number | undefined, stream: ReadableStream<Uint8Array>): Promise<unknown> {
    if (stream.locked) return Promise.reject(new NetError("aborted", "the request body stream is already being read (a stream can be sent only once)"));
    const id = this.allocateId();
    return new Promise((resolve, reject) => {
      const request: Request = { t: "req", id, op, body, ttl: timeoutMs, streamed: true };
      if (key !== undefined) request.key = key;
      this.send(request);
      // The deadline runs from the end of the upload, as nginx's proxy_read_timeout: a large or slow
      // body may take longer than any answer should; a stalled one is caught by the stream's idle timeout.
      const entry: Pending = { resolve, reject, deadline: Number.POSITIVE_INFINITY };
      entry.upload = new OutStream(id, stream, (failure) => {
        if (failure === null) entry.deadline = performance.now() + timeoutMs;
        // A body that broke off fails the request; one the upstream declined to read does not (its answer follows).
        if (failure === null || this.pending.get(id) !== entry) return;
        this.pending.delete(id);
        // "aborted" whatever the cause: the body was (partly) read, so no other upstream can be given it.
        reject(failure.code === "aborted" ? failure : new NetError("aborted", `the request body broke off: ${failure.message}`));
      });
      this.pending.set(id, entry);
      this.armSweeper();
      if (this.stateValue === "open" && this.conn !== null) entry.upload.start(this.streamsOf(this.conn));
      else this.unstarted.push(entry.upload);
    });
  }

  /** A health check: resolves to the upstream's load statistics. */
  ping(timeoutMs = 1000): Promise<LoadStats> {
    if (this.stateValue !== "open" && this.stateValue !== "draining") {
      return Promise.reject(new NetError("unavailable", `${formatAddress(this.address)} is ${this.stateValue}`));
    }
    const id = this.allocateId();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (body: unknown) => void, reject, deadline: performance.now() + timeoutMs });
      this.armSweeper();
      this.send({ t: "ping", id });
    });
  }

  /** Sends a frame that expects no answer (control messages); throws if MessagePack cannot carry it. */
  send(message: Message): void {
    if (this.conn) {
      this.conn.send(message);
    } else {
      encodeBody(message); // Fail now, in the caller's hands, not later inside the connect callback.
      this.queued.push(message);
    }
  }

  /** Skips the backoff: dial now if the connection is down (the watchdog says the upstream is back). */
  reconnectNow(): void {
    if (this.stateValue !== "down" || this.retryTimer === null) return;
    clearTimeout(this.retryTimer);
    this.redial();
  }

  close(): void {
    if (this.stateValue === "closed") return;
    this.setState("closed", "closed by owner");
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.clearHelloTimer();
    // Requests first, so they fail as "closed"; end() then breaks off the streams still running.
    this.failAll("closed", "peer closed");
    this.conn?.end();
    this.conn = null;
  }

  private allocateId(): number {
    const id = this.nextId;
    this.nextId = id === 0xffff_ffff ? 1 : id + 1;
    return id;
  }

  private connect(): void {
    const { address, role, id } = this.options;
    const timeoutMs = this.options.connectTimeoutMs ?? 2000;
    dial(
      address,
      {
        onMessage: (conn, message) => this.onMessage(conn, message),
        onClose: (conn, reason) => this.onClose(conn, reason),
      },
      timeoutMs,
      this.options.maxFrame ?? DEFAULT_MAX_FRAME,
      { rawResponses: this.options.rawResponses === true },
    ).then(
      (conn) => {
        if (this.stateValue === "closed") return conn.destroy();
        this.conn = conn;
        conn.send({ t: "hello", v: PROTOCOL_VERSION, role, id });
        // Queued requests may go before the upstream's hello arrives (pipelining); the peer is
        // open, and its backoff reset, only once that hello says the upstream speaks our version.
        for (const message of this.queued) conn.send(message);
        this.queued = [];
        this.helloTimer = setTimeout(() => {
          this.helloTimer = null;
          this.drop(conn, "no hello");
        }, timeoutMs);
      },
      (error: NetError) => this.lost(error.message.replace(`${formatAddress(address)}: `, "")),
    );
  }

  /** The upstream's answer to our hello: the connection is usable only now. */
  private onHello(conn: Connection, hello: Hello): void {
    if (conn !== this.conn || conn.remote !== null) return; // A second hello changes nothing.
    this.clearHelloTimer();
    if (hello.v !== PROTOCOL_VERSION) {
      this.drop(conn, `protocol version ${hello.v}`);
      return;
    }
    conn.remote = hello;
    this.backoff.reset();
    if (this.stateValue === "connecting") this.setState("open", "connected");
    // Started here, before any later frame is read: the upstream's credit or cancel for them finds them.
    const uploads = this.unstarted;
    this.unstarted = [];
    for (const upload of uploads) upload.start(this.streamsOf(conn));
  }

  private streamsOf(conn: Connection) {
    return conn.streamTable(this.options.streamIdleMs ?? STREAM_IDLE_MS);
  }

  /** Gives up on `conn`, counting it as one loss (one retry), and closes it. */
  private drop(conn: Connection, reason: string): void {
    if (conn === this.conn) {
      // Detach first, so the close that destroy() causes is not counted as a second loss (and a second retry).
      this.conn = null;
      this.clearHelloTimer();
      this.lost(reason);
    }
    conn.destroy();
  }

  private clearHelloTimer(): void {
    if (this.helloTimer === null) return;
    clearTimeout(this.helloTimer);
    this.helloTimer = null;
  }

  private onMessage(conn: Connection, message: Message): void {
    switch (message.t) {
      case "res":
      case "pong": {
        const entry = this.pending.get(message.id);
        if (!entry) {
          // Answer to a request that already timed out: a streamed one must not wait for a reader.
          if (message.t === "res" && message.streamed === true) conn.send({ t: "cancel", id: message.id, code: "cancelled", message: "nobody waits for this answer any more" });
          if (message.t === "res") this.options.onStrayAnswer?.(message.id);
          return;
        }
        this.pending.delete(message.id);
        entry.resolve(message.t !== "res" ? message.stats : message.streamed === true ? this.receiveStreamed(conn, message) : message.body);
        if (this.stateValue === "draining") this.leaveIfDone(conn);
        return;
      }
      case "err": {
        if (message.id === 0) {
          this.drop(conn, `refused: ${message.message}`);
          return;
        }
        const entry = this.pending.get(message.id);
        if (!entry) {
          this.options.onStrayAnswer?.(message.id);
          return;
        }
        this.pending.delete(message.id);
        const error = new NetError("remote", message.message, message.code);
        // The upstream has given its answer: the rest of the body would go nowhere.
        entry.upload?.abort(error);
        entry.reject(error);
        if (this.stateValue === "draining") this.leaveIfDone(conn);
        return;
      }
      case "data":
      case "credit":
      case "cancel":
      case "abort":
        conn.streams?.onFrame(message);
        return;
      case "hello":
        this.onHello(conn, message);
        return;
      case "goaway":
        if (this.stateValue === "open") this.setState("draining", message.reason);
        this.leaveIfDone(conn);
        return;
      case "ctl":
        this.options.onControl?.(message);
        return;
      default:
        return; // req/ping from a server: not something a client answers.
    }
  }

  /** The head of a streamed answer: its body is read from the Streamed's stream as the chunks come. */
  private receiveStreamed(conn: Connection, message: Response): Streamed {
    return new Streamed(message.body, this.streamsOf(conn).receive(message.id).readable);
  }

  /**
   * After a goaway, our side closes the connection once nothing is in flight on it: the upstream
   * then knows every request we sent has reached it and may stop (see Listener.drained).
   */
  private leaveIfDone(conn: Connection): void {
    if (conn === this.conn && this.pending.size === 0 && (conn.streams?.active ?? 0) === 0) conn.end();
  }

  private onClose(conn: Connection, reason: string): void {
    if (conn !== this.conn) return;
    this.conn = null;
    this.clearHelloTimer();
    this.lost(reason);
  }

  private lost(reason: string): void {
    if (this.stateValue === "closed") return;
    this.failAll("connection_lost", `connection to ${formatAddress(this.address)} lost (${reason})`);
    if (this.options.reconnect === false) {
      this.setState("closed", reason);
      return;
    }
    this.setState("down", reason);
    this.retryTimer = setTimeout(() => {
      if (this.stateValue === "down") this.redial();
      else this.retryTimer = null;
    }, this.backoff.next());
  }

  private redial(): void {
    this.retryTimer = null;
    this.stateValue = "connecting"; // Silent: only real transitions are reported.
    this.connect();
  }

  private setState(state: PeerState, reason: string): void {
    if (this.stateValue === state) return;
    this.stateValue = state;
    // Reconnect attempts that fail again are not news: "down" is reported once until it is back.
    if (state === "down") {
      if (this.reportedDown) return;
      this.reportedDown = true;
    } else if (state === "open") {
      this.reportedDown = false;
    }
    this.options.onStateChange?.(state, reason);
  }

  private failAll(code: "connection_lost" | "closed", message: string): void {
    this.queued = [];
    this.unstarted = [];
    if (this.pending.size === 0) return;
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) {
      // A streamed request whose body was never read surely never ran: it may go elsewhere.
      const unread = entry.upload !== undefined && !entry.upload.started && code === "connection_lost";
      const error = new NetError(unread ? "unavailable" : code, message);
      entry.upload?.abort(error);
      entry.reject(error);
    }
  }

  /** A started upload tells the upstream itself; one still waiting for the hello only has its head out. */
  private abortUpload(id: number, upload: OutStream, error: NetError): void {
    if (!upload.started) this.send({ t: "abort", id, code: error.code, message: error.message });
    upload.abort(error);
  }

  private armSweeper(): void {
    if (this.sweeper !== null) return;
    this.sweeper = setInterval(() => this.sweep(), SWEEP_MS);
  }

  private sweep(): void {
    const now = performance.now();
    for (const [id, entry] of this.pending) {
      if (entry.deadline <= now) {
        this.pending.delete(id);
        const error = new NetError("timeout", `no answer from ${formatAddress(this.address)} within the deadline`);
        if (entry.upload !== undefined) this.abortUpload(id, entry.upload, error);
        entry.reject(error);
      }
    }
    if (this.pending.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }
}
