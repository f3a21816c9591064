import type { Logger } from "@switchyard/log";
import { type Address, NetError, Peer, type PeerState } from "@switchyard/net";
import type { LoadStats } from "@switchyard/wire";
import { type HealthChange, type HealthOptions, HealthState, nextCheckDelay } from "./health.ts";
import { AttemptCounts, type CountedUpstream } from "./hop-stats.ts";
import type { Candidate } from "./policy.ts";

/** One upstream (a proxy for the load balancer, a server for a proxy) as a tier uses it. */
export interface Upstream extends Candidate, CountedUpstream {
  readonly label: string;
  /** Connected, healthy and not draining, whether or not it is at its in-flight limit. */
  readonly alive: boolean;
  readonly peer: Peer;
  /** One request was sent to it (for checks every R requests); `retry` when it is another upstream's failed attempt again. */
  sent(retry?: boolean): void;
  /** A request to it failed (refused, reset, timed out, or answered with an error): passive health. */
  failed(error: unknown): void;
}

export interface MemberOptions {
  n: number;
  address: Address;
  label: string;
  role: string;
  id: number;
  log: Logger;
  health: HealthOptions;
  /** Requests it may have in flight from this hop; 0: no limit. */
  maxInflight: number;
  random: () => number;
  /** The first connection attempt ended, either way. */
  onSettled(): void;
}

const STATE_WORDS: Record<PeerState, string> = {
  open: "is back",
  down: "is down",
  draining: "is draining",
  connecting: "is connecting",
  closed: "is closed",
};

/**
 * A persistent connection plus health: available while connected, passing its checks, not
 * draining, and not reported dead by the watchdog. Every change of that is logged once.
 */
export class PoolMember implements Upstream {
  readonly n: number;
  readonly label: string;
  readonly peer: Peer;
  load: LoadStats | undefined;
  readonly counts = new AttemptCounts();
  private readonly health: HealthState;
  private readonly log: Logger;
  private readonly options: MemberOptions;
  /** The watchdog said the process died; cleared when a new connection opens. */
  private reportedDead = false;
  private sinceCheck = 0;
  private checking = false;
  private checkTimer: Timer | null = null;
  private closed = false;

  constructor(options: MemberOptions) {
    this.options = options;
    this.n = options.n;
    this.label = options.label;
    this.log = options.log;
    this.health = new HealthState(options.health.rise, options.health.fall);
    let settled = false;
    let everOpen = false;
    let previous: PeerState = "connecting";
    this.peer = new Peer({
      address: options.address,
      role: options.role,
      id: options.id,
      rawResponses: true, // A hop passes answers back unread.
      onStateChange: (state, reason) => {
        if (!settled) {
          settled = true;
          options.onSettled();
        }
        const was = previous;
        previous = state;
        if (state === "open") {
          this.reportedDead = false;
          this.health.reset();
          this.load = undefined;
        }
        if (state === "closed") return;
        if (state === "open" && !everOpen) {
          everOpen = true; // The first connection is start-up, not news.
          this.log.debug(`Connected to ${this.label}`);
          return;
        }
        const line = `${this.label} ${STATE_WORDS[state]}${state === "open" ? "" : ` (${reason})`}`;
        if (state === "open" || state === "draining") this.log.info(line);
        // After a goaway the close is the expected end of a planned departure, not a failure.
        else if (was === "draining") this.log.debug(line);
        else this.log.warn(line);
      },
    });
    this.scheduleCheck();
  }

  get alive(): boolean {
    return this.peer.available && this.health.healthy && !this.reportedDead;
  }

  /** Alive and below its in-flight limit: a policy may choose it. */
  get available(): boolean {
    const max = this.options.maxInflight;
    return this.alive && (max === 0 || this.peer.inflight < max);
  }

  get inflight(): number {
    return this.peer.inflight;
  }

  sent(retry = false): void {
    this.counts.requests++;
    if (retry) this.counts.retries++;
    const every = this.options.health.every;
    if (every > 0 && ++this.sinceCheck >= every) this.check();
  }

  failed(error: unknown): void {
    // An error the upstream's handler answered (a bad request) is an answer, not a failure of the upstream.
    if (!(error instanceof NetError && error.code === "remote" && !error.retryable)) this.counts.errors++;
    if (error instanceof NetError && error.code === "timeout" && this.alive) {
      this.report(this.health.failNow(), "a request timed out");
    }
  }

  /** The watchdog saw the process die (`false`) or come back (`true`). */
  reportedByWatchdog(alive: boolean): void {
    if (!alive && !this.reportedDead) {
      const wasAlive = this.alive;
      this.reportedDead = true;
      if (wasAlive) this.log.warn(`${this.label} is down (the watchdog saw it exit)`);
    } else if (alive) {
      this.peer.reconnectNow();
    }
  }

  close(): void {
    this.closed = true;
    if (this.checkTimer !== null) clearTimeout(this.checkTimer);
    this.peer.close();
  }

  private scheduleCheck(): void {
    const { intervalMs } = this.options.health;
    if (intervalMs <= 0 || this.closed) return;
    this.checkTimer = setTimeout(() => {
      this.checkTimer = null;
      this.check();
      this.scheduleCheck();
    }, nextCheckDelay(this.options.health, this.options.random));
  }

  /** One ping carrying the upstream's load statistics; only while connected (a dead one is already out). */
  private check(): void {
    this.sinceCheck = 0;
    if (this.checking || this.closed || (this.peer.state !== "open" && this.peer.state !== "draining")) return;
    this.checking = true;
    this.peer.ping(this.options.health.timeoutMs).then(
      (stats) => {
        this.checking = false;
        this.load = stats;
        this.report(this.health.pass(), "");
      },
      (error: unknown) => {
        this.checking = false;
        // A check that failed because the connection dropped is not a health verdict: the drop is reported by itself.
        if (this.peer.state !== "open" && this.peer.state !== "draining") return;
        const why = error instanceof NetError && error.code === "timeout" ? `no answer within ${this.options.health.timeoutMs} ms` : (error as Error).message;
        this.report(this.health.fail(), `${this.options.health.fall} health checks failed: ${why}`);
      },
    );
  }

  private report(change: HealthChange, reason: string): void {
    if (change === "down") this.log.warn(`${this.label} is down (${reason})`);
    else if (change === "up") this.log.info(`${this.label} is back (passed ${this.options.health.rise} health checks)`);
  }
}
