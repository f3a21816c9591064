import { HttpClientError } from "./errors.ts";
import { Exchange } from "./exchange.ts";
import { resolveOriginOptions, validateOriginOptions } from "./options.ts";
import { type OriginAddress, parseOriginUrl } from "./origin-url.ts";
import { ConnectionPool } from "./pool.ts";
import { type PreparedRequest, prepareRequest } from "./request-head.ts";
import type { HttpConnection } from "./connection.ts";
import type { OriginOptions, UpstreamRequest, UpstreamResponse } from "./types.ts";

const DEFAULT_BODY_IDLE_TIMEOUT_MS = 30_000;

/**
 * An HTTP/1.1 upstream (http://host:port or unix:/path) reached over raw sockets with a
 * keep-alive pool: Bun.connect instead of fetch(), which measured at about 0.75x of HAProxy here.
 */
export class Origin {
  /** The origin as given, normalised ("http://127.0.0.1:8080"); names it in every error message. */
  readonly url: string;
  private readonly address: OriginAddress;
  private readonly pool: ConnectionPool;
  private active = 0;
  private closed = false;

  constructor(options: OriginOptions) {
    const resolved = resolveOriginOptions(options);
    validateOriginOptions(resolved);
    this.address = parseOriginUrl(resolved.url);
    this.url = this.address.label;
    this.pool = new ConnectionPool(this.address, resolved);
  }

  /** Requests sent and not finished (response body fully received, or aborted). */
  get inflight(): number {
    return this.active;
  }

  /** Connections open or being opened (for tests and stats). */
  get openConnections(): number {
    return this.pool.open;
  }

  get idleConnections(): number {
    return this.pool.idleCount;
  }

  /**
   * Sends one request; resolves once the response head arrived, with the body still streaming.
   * A request that failed on a reused connection before any response byte (the upstream closed it
   * while idle) is retried once on a fresh connection when its body can be replayed.
   */
  async request(req: UpstreamRequest): Promise<UpstreamResponse> {
    if (this.closed) throw new HttpClientError("closed", `${this.url}: origin closed`, false);
    if (!(req.timeoutMs > 0)) throw new RangeError(`timeoutMs must be a positive number, got ${req.timeoutMs}`);
    const prepared = prepareRequest(req, this.address.hostHeader, this.url);
    const deadline = performance.now() + req.timeoutMs;
    const first = this.pool.takeIdle() ?? (await this.pool.acquire(deadline, req.timeoutMs, false));
    const reused = first.uses > 0;
    const exchange = this.begin(first, prepared, req, deadline);
    try {
      return await exchange.response;
    } catch (error) {
      const replayable = req.body === null || req.body instanceof Uint8Array;
      const stale = reused && replayable && !exchange.responseStarted && error instanceof HttpClientError && error.code === "reset";
      if (!stale || this.closed) throw error;
    }
    const second = await this.pool.acquire(deadline, req.timeoutMs, true);
    return await this.begin(second, prepared, req, deadline).response;
  }

  /** Closes idle and active connections; pending requests fail "closed". */
  close(): void {
    this.closed = true;
    this.pool.close();
  }

  private begin(conn: HttpConnection, prepared: PreparedRequest, req: UpstreamRequest, deadline: number): Exchange {
    this.active++;
    const exchange = new Exchange(conn, prepared, {
      label: this.url,
      deadline,
      timeoutMs: req.timeoutMs,
      bodyIdleTimeoutMs: req.bodyIdleTimeoutMs ?? DEFAULT_BODY_IDLE_TIMEOUT_MS,
      onFinish: (reusable) => {
        this.active--;
        if (reusable) this.pool.release(conn);
      },
    });
    exchange.start();
    return exchange;
  }
}
