import { type ConnectionOwner, type HttpConnection, connect } from "./connection.ts";
import { HttpClientError } from "./errors.ts";
import type { ResolvedOriginOptions } from "./options.ts";
import type { OriginAddress } from "./origin-url.ts";

interface Waiter {
  resolve(conn: HttpConnection): void;
  reject(error: unknown): void;
  timer: Timer;
}

/**
 * The connections to one origin: at most maxConnections open (connecting, busy or idle), idle
 * ones reused most-recent-first and closed after idleTimeoutMs, requests beyond the limit queued
 * in order until a connection frees up or their deadline passes.
 */
export class ConnectionPool implements ConnectionOwner {
  /** Oldest first: released connections are pushed and taken from the end. */
  private readonly idle: HttpConnection[] = [];
  /** Connected and not closed, idle or busy. */
  private readonly live = new Set<HttpConnection>();
  private waiters: Waiter[] = [];
  private connecting = 0;
  private sweepTimer: Timer | null = null;
  private filling = false;
  private closed = false;

  constructor(
    private readonly address: OriginAddress,
    private readonly options: ResolvedOriginOptions,
  ) {}

  /** Connections open or being opened. */
  get open(): number {
    return this.live.size + this.connecting;
  }

  get idleCount(): number {
    return this.idle.length;
  }

  /**
   * A connection for one exchange, by `deadline` (performance.now()). `fresh` skips the idle ones,
   * for the retry after an idle connection turned out to be closed by the upstream.
   */
  acquire(deadline: number, timeoutMs: number, fresh: boolean): Promise<HttpConnection> {
    if (this.closed) return Promise.reject(this.closedError());
    const conn = fresh ? undefined : this.takeIdle();
    if (conn !== undefined) return Promise.resolve(conn);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(
          () => {
            this.waiters = this.waiters.filter((w) => w !== waiter);
            const why = `no connection within ${timeoutMs} ms (${this.open} open, maxConnections ${this.options.maxConnections})`;
            reject(new HttpClientError("timeout", `${this.address.label}: ${why}`, false));
          },
          Math.max(deadline - performance.now(), 0),
        ),
      };
      this.waiters.push(waiter);
      this.fill();
    });
  }

  /** The most recently used idle connection, if any (without waiting: the common case at load). */
  takeIdle(): HttpConnection | undefined {
    const conn = this.closed ? undefined : this.idle.pop();
    conn?.setRef(true);
    return conn;
  }

  /** A connection whose exchange completed cleanly and may carry another. */
  release(conn: HttpConnection): void {
    if (this.closed || conn.closed) conn.destroy("origin closed");
    else this.handOut(conn);
  }

  connectionClosed(conn: HttpConnection): void {
    if (!this.live.delete(conn)) return; // never handed out: its connect attempt accounts for it
    const at = this.idle.indexOf(conn);
    if (at >= 0) this.idle.splice(at, 1);
    this.fill();
  }

  /** Closes idle and busy connections; queued and running requests fail "closed". */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.sweepTimer !== null) clearTimeout(this.sweepTimer);
    this.sweepTimer = null;
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(this.closedError());
    }
    this.idle.length = 0;
    for (const conn of [...this.live]) {
      if (conn.user !== null) conn.user.fail("closed", "origin closed");
      else conn.destroy("origin closed");
    }
  }

  /** Opens connections while requests wait and the limit allows (one per waiter not yet served). */
  private fill(): void {
    if (this.filling) return; // a destroy below re-enters through connectionClosed
    this.filling = true;
    try {
      while (!this.closed && this.waiters.length > this.connecting) {
        if (this.open < this.options.maxConnections) {
          this.startConnect();
          continue;
        }
        // At the limit with idle connections means the waiters want fresh ones: make room.
        const oldest = this.idle.shift();
        if (oldest === undefined) break;
        oldest.destroy("closed to make room for a fresh connection");
      }
    } finally {
      this.filling = false;
    }
  }

  private startConnect(): void {
    this.connecting++;
    connect(this.address, this, this.options.connectTimeoutMs).then(
      (conn) => {
        this.connecting--;
        if (this.closed) {
          conn.destroy("origin closed");
          return;
        }
        if (conn.closed) {
          this.failFirstWaiter(new HttpClientError("connect_failed", `${this.address.label}: connection closed as soon as it opened`));
          return;
        }
        this.live.add(conn);
        this.handOut(conn);
      },
      (error: unknown) => {
        this.connecting--;
        this.failFirstWaiter(error);
      },
    );
  }

  private failFirstWaiter(error: unknown): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      waiter.reject(error);
    }
    this.fill();
  }

  private handOut(conn: HttpConnection): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) {
      clearTimeout(waiter.timer);
      conn.setRef(true);
      waiter.resolve(conn);
      return;
    }
    if (this.idle.length >= this.options.maxIdle) {
      conn.destroy("enough idle connections");
      return;
    }
    conn.idleSince = performance.now();
    conn.setRef(false);
    this.idle.push(conn);
    this.armSweep();
  }

  private armSweep(): void {
    const oldest = this.idle[0];
    if (this.sweepTimer !== null || oldest === undefined) return;
    const delay = Math.max(oldest.idleSince + this.options.idleTimeoutMs - performance.now(), 0);
    this.sweepTimer = setTimeout(() => this.sweep(), delay);
    // Idle connections must not keep a process alive that has nothing else to do.
    this.sweepTimer.unref();
  }

  private sweep(): void {
    this.sweepTimer = null;
    const now = performance.now();
    for (let oldest = this.idle[0]; oldest !== undefined && now - oldest.idleSince >= this.options.idleTimeoutMs; oldest = this.idle[0]) {
      this.idle.shift();
      oldest.destroy("idle timeout");
    }
    this.armSweep();
  }

  private closedError(): HttpClientError {
    return new HttpClientError("closed", `${this.address.label}: origin closed`, false);
  }
}
