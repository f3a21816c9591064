import { type Control, DEFAULT_MAX_FRAME, encodeBody, type Hello, type LoadStats, type Message, PROTOCOL_VERSION } from "@switchyard/wire";
import { type Address, formatAddress } from "./address.ts";
import { type BackoffOptions, createBackoff } from "./backoff.ts";
import type { Connection } from "./connection.ts";
import { dial } from "./dial.ts";
import { NetError } from "./errors.ts";

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
  /** false: a lost connection is final (the child's lifeline to its watchdog). */
  reconnect?: boolean;
  /** Called once per transition (down → open, open → down, …) with a human reason. */
  onStateChange?(state: PeerState, reason: string): void;
  onControl?(message: Control): void;
}

interface Pending {
  resolve(body: unknown): void;
  reject(error: NetError): void;
  deadline: number;
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

  /** Sends `op` and resolves to the response body; rejects with NetError. */
  /** `key` (the client id) travels in the envelope, so hops can route without decoding the body. */
  request(op: string, body: unknown, timeoutMs = this.options.timeoutMs ?? 5000, key?: number): Promise<unknown> {
    const state = this.stateValue;
    if (state !== "open" && state !== "connecting") {
      return Promise.reject(new NetError("unavailable", `${formatAddress(this.address)} is ${state}`));
    }
    const id = this.allocateId();
    return new Promise((resolve, reject) => {
      // Send first: a body MessagePack cannot carry throws here, rejecting this promise with nothing left pending.
      this.send(key === undefined ? { t: "req", id, op, body, ttl: timeoutMs } : { t: "req", id, op, key, body, ttl: timeoutMs });
      this.pending.set(id, { resolve, reject, deadline: performance.now() + timeoutMs });
      this.armSweeper();
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
    this.conn?.end();
    this.conn = null;
    this.failAll("closed", "peer closed");
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
        if (!entry) return; // Answer to a request that already timed out.
        this.pending.delete(message.id);
        entry.resolve(message.t === "res" ? message.body : message.stats);
        return;
      }
      case "err": {
        if (message.id === 0) {
          this.drop(conn, `refused: ${message.message}`);
          return;
        }
        const entry = this.pending.get(message.id);
        if (!entry) return;
        this.pending.delete(message.id);
        entry.reject(new NetError("remote", message.message, message.code));
        return;
      }
      case "hello":
        this.onHello(conn, message);
        return;
      case "goaway":
        if (this.stateValue === "open") this.setState("draining", message.reason);
        return;
      case "ctl":
        this.options.onControl?.(message);
        return;
      default:
        return; // req/ping from a server: not something a client answers.
    }
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
    if (this.pending.size === 0) return;
    const entries = [...this.pending.values()];
    this.pending.clear();
    for (const entry of entries) entry.reject(new NetError(code, message));
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
        entry.reject(new NetError("timeout", `no answer from ${formatAddress(this.address)} within the deadline`));
      }
    }
    if (this.pending.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }
}
