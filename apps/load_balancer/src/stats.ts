import type { WatchdogLink } from "@switchyard/cli";
import type { FleetStatus, ProcessStatus } from "@switchyard/wire";
import type { Traffic, TrafficTotals } from "./traffic.ts";

/** GET /stats: the fleet as the watchdog sees it, with the load balancer's own traffic. */
export interface FleetStats extends FleetStatus {
  /** What the front door and the wire listener were asked (requests, errors, in flight). */
  http: TrafficTotals;
  wire: TrafficTotals;
  /** Requests --rate-limit refused, per protocol. */
  rateLimited: Traffic["rateLimited"];
  /** Why the fleet beyond this load balancer is missing, when it is (no watchdog, or it did not answer). */
  warning?: string;
}

export interface StatsSourceOptions {
  topology: FleetStatus["topology"];
  /** This load balancer as a process of the fleet, read now. */
  self(): ProcessStatus;
  traffic: Traffic;
  /** The wire listener's requests, errors and requests in flight. */
  wire(): TrafficTotals;
}

const FLEET_TIMEOUT_MS = 3000;

/**
 * The numbers behind /stats, /metrics and the dashboard: the watchdog's `fleet.status` (every
 * process, the rooms leader, recent events) with this load balancer's own entry read fresh; a load
 * balancer started by hand knows only itself.
 */
export class StatsSource {
  private link: WatchdogLink | undefined;
  private reading: Promise<FleetStats> | undefined;

  constructor(private readonly options: StatsSourceOptions) {}

  attach(link: WatchdogLink): void {
    this.link = link;
  }

  /** The fleet now; callers that ask while a reading is under way (dashboards, a scrape, /stats) share it. */
  snapshot(): Promise<FleetStats> {
    this.reading ??= this.read().finally(() => {
      this.reading = undefined;
    });
    return this.reading;
  }

  private async read(): Promise<FleetStats> {
    const { topology, traffic: counts } = this.options;
    const self = this.options.self();
    const traffic = { http: { ...counts.http }, wire: this.options.wire(), rateLimited: { ...counts.rateLimited } };
    const alone = (warning: string): FleetStats => ({ time: Date.now(), topology, processes: [self], rooms: { leader: null, epoch: null }, events: [], ...traffic, warning });
    if (this.link === undefined) return alone("this load balancer runs without a watchdog: only its own numbers are known");
    try {
      const fleet = (await this.link.request("fleet.status", {}, FLEET_TIMEOUT_MS)) as FleetStatus;
      // The watchdog's view of us is up to a probe old, and lacks the HTTP cache: ours replaces its counts.
      const processes = fleet.processes.map((p) => (p.role === "load_balancer" ? { ...p, requests: self.requests, errors: self.errors, inflight: self.inflight, hop: self.hop } : p));
      return { ...fleet, processes, ...traffic };
    } catch (error) {
      return alone(`the watchdog did not answer fleet.status: ${(error as Error).message}`);
    }
  }
}
