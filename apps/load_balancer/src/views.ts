import type { IncomingRequest, OutgoingResponse } from "@switchyard/http";
import type { Logger } from "@switchyard/log";
import type { AddressList } from "./address-list.ts";
import { isLoopback } from "./admin.ts";
import { DASHBOARD_HTML } from "./dashboard/page.ts";
import type { FleetMetrics } from "./metrics.ts";
import type { StatsSource } from "./stats.ts";

/** How often /events sends a snapshot. */
export const EVENTS_INTERVAL_MS = 1000;
/** Snapshots a slow /events reader may have queued before the next ones are skipped. */
const EVENTS_QUEUED = 4;

export interface ViewsOptions {
  source: StatsSource;
  metrics: FleetMetrics;
  /** --admin-allow: who may look (default loopback only), as for the admin API. */
  allow: AddressList | undefined;
  log: Logger;
  /** How often /events sends a snapshot (default EVENTS_INTERVAL_MS). */
  eventsIntervalMs?: number;
}

type View = (request: IncomingRequest) => OutgoingResponse | Promise<OutgoingResponse>;

/** The read-only endpoints an operator watches the fleet through. */
export interface Views {
  /** GET /stats: the fleet as JSON (FleetStats). */
  stats: View;
  /** GET /events: the same snapshot every second, as server-sent events. */
  events: View;
  /** GET /metrics: Prometheus text format. */
  metrics: View;
  /** GET /dashboard: the live page (dashboard/page.ts). */
  dashboard: View;
  /** Ends every open /events stream (the load balancer is stopping). */
  close(): void;
}

const encoder = new TextEncoder();

/**
 * /stats, /events, /metrics and /dashboard. They answer the addresses the admin API answers
 * (--admin-allow, loopback by default) but need no token: browsers and Prometheus read them, and
 * an EventSource cannot send one. They only read.
 */
export function createViews(options: ViewsOptions): Views {
  const { source, allow, log } = options;
  const streams = new Set<() => void>();
  const guarded = (path: string, view: (request: IncomingRequest) => OutgoingResponse | Promise<OutgoingResponse>): View => {
    return (request) => {
      if (request.method !== "GET" && request.method !== "HEAD") return errorAnswer(405, `${path} takes GET`, [["Allow", "GET, HEAD"]]);
      const allowed = allow === undefined ? isLoopback(request.address) : allow.has(request.address);
      if (!allowed) return errorAnswer(403, `${path} does not answer this address (${allow === undefined ? "loopback only; see --admin-allow" : "--admin-allow"})`);
      return view(request);
    };
  };
  return {
    stats: guarded("/stats", async () => ({ status: 200, headers: [...NO_STORE, ["Content-Type", "application/json"]], body: JSON.stringify(await source.snapshot()) })),
    metrics: guarded("/metrics", async () => ({ status: 200, headers: [...NO_STORE, ["Content-Type", options.metrics.contentType]], body: await options.metrics.render(await source.snapshot()) })),
    dashboard: guarded("/dashboard", () => ({ status: 200, headers: [...NO_STORE, ["Content-Type", "text/html; charset=utf-8"], ["Content-Security-Policy", PAGE_POLICY]], body: DASHBOARD_HTML })),
    events: guarded("/events", (request) => {
      const headers: [string, string][] = [...NO_STORE, ["Content-Type", "text/event-stream"], ["X-Accel-Buffering", "no"]];
      if (request.method === "HEAD") return { status: 200, headers };
      return { status: 200, headers, body: eventStream(source, streams, options.eventsIntervalMs ?? EVENTS_INTERVAL_MS, log) };
    }),
    close() {
      for (const end of [...streams]) end();
    },
  };
}

/**
 * A snapshot now and then every second, each as one `data:` event, until the client goes away (the
 * stream is cancelled) or the views close. A reader that does not keep up skips snapshots rather
 * than queueing them without bound.
 */
function eventStream(source: StatsSource, streams: Set<() => void>, intervalMs: number, log: Logger): ReadableStream<Uint8Array> {
  let timer: Timer | undefined;
  let open = true;
  const stop = () => {
    open = false;
    clearInterval(timer);
    streams.delete(end);
  };
  let end = stop;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        end = () => {
          if (!open) return;
          stop();
          controller.close();
        };
        streams.add(end);
        const send = async () => {
          if ((controller.desiredSize ?? 0) <= 0) return;
          try {
            const snapshot = await source.snapshot();
            if (open) controller.enqueue(encoder.encode(`data: ${JSON.stringify(snapshot)}\n\n`));
          } catch (error) {
            log.warn(`/events: no snapshot to send: ${(error as Error).message}`);
          }
        };
        // A client that lost the stream reconnects after 2 s (the browser's EventSource does it by itself).
        controller.enqueue(encoder.encode("retry: 2000\n\n"));
        void send();
        timer = setInterval(send, intervalMs);
      },
      cancel: stop,
    },
    { highWaterMark: EVENTS_QUEUED },
  );
}

const NO_STORE: [string, string][] = [["Cache-Control", "no-store"]];

/** The page's scripts and styles are inline; it talks only to this origin and loads nothing else. */
const PAGE_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'";

function errorAnswer(status: number, message: string, headers: [string, string][] = []): OutgoingResponse {
  return { status, headers: [["Content-Type", "application/json"], ...headers], body: JSON.stringify({ message: `<Error> ${message}`, status: "failure" }) };
}
