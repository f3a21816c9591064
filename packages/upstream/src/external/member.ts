import { type HttpClientError, Origin, checkHealth } from "@switchyard/http";
import type { Logger } from "@switchyard/log";
import type { LoadStats } from "@switchyard/wire";
import { type HealthChange, type HealthOptions, HealthState, nextCheckDelay } from "../health.ts";
import { AttemptCounts, type CountedUpstream } from "../hop-stats.ts";
import type { Candidate } from "../policy.ts";

export interface ExternalMemberOptions {
  n: number;
  /** "http://127.0.0.1:8080". */
  url: string;
  log: Logger;
  health: HealthOptions;
  /** GET this path for active checks (seeds/001's /healthcheck). */
  healthPath: string;
  random: () => number;
}

/**
 * An external HTTP upstream (seeds/001): a keep-alive connection pool, active checks of its health
 * path (whose seeds/001 request and error counts feed `least-loaded`), and passive checks (a
 * refused connection or a timeout takes it out at once; checks bring it back).
 */
export class ExternalMember implements Candidate, CountedUpstream {
  readonly n: number;
  readonly label: string;
  readonly origin: Origin;
  load: LoadStats | undefined;
  readonly counts = new AttemptCounts();
  private readonly health: HealthState;
  private readonly options: ExternalMemberOptions;
  private timer: Timer | null = null;
  private checking = false;
  private closed = false;

  constructor(options: ExternalMemberOptions) {
    this.options = options;
    this.n = options.n;
    this.label = options.url;
    this.origin = new Origin({ url: options.url });
    this.health = new HealthState(options.health.rise, options.health.fall);
    this.schedule();
  }

  get available(): boolean {
    return this.health.healthy;
  }

  get alive(): boolean {
    return this.health.healthy;
  }

  get inflight(): number {
    return this.origin.inflight;
  }

  /** A request to it failed before any answer: refused, reset, or timed out. */
  failed(error: HttpClientError): void {
    this.counts.errors++;
    if (error.code === "connect_failed" || error.code === "timeout") this.report(this.health.failNow(), error.message);
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.origin.close();
  }

  private schedule(): void {
    const { intervalMs } = this.options.health;
    if (intervalMs <= 0 || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.check().finally(() => this.schedule());
    }, nextCheckDelay(this.options.health, this.options.random));
  }

  private async check(): Promise<void> {
    if (this.checking || this.closed) return;
    this.checking = true;
    const { healthPath, health } = this.options;
    try {
      const result = await checkHealth(this.origin, healthPath, health.timeoutMs);
      if (result.ok) {
        if (result.load) this.load = { inflight: this.origin.inflight, total: result.load.total, errors: result.load.errors };
        this.report(this.health.pass(), "");
      } else {
        this.report(this.health.fail(), `${health.fall} health checks failed: GET ${healthPath} answered ${result.status}`);
      }
    } catch (error) {
      this.report(this.health.fail(), `${health.fall} health checks failed: ${(error as Error).message}`);
    } finally {
      this.checking = false;
    }
  }

  private report(change: HealthChange, reason: string): void {
    if (change === "down") this.options.log.warn(`${this.label} is down (${reason})`);
    else if (change === "up") this.options.log.info(`${this.label} is back (passed ${this.options.health.rise} health checks)`);
  }
}
