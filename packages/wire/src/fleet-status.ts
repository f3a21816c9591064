/**
 * What the fleet reports about itself: the answers of the `hop.stats` op (a hop's view of its
 * upstreams) and of the watchdog's `fleet.status` op, which `watchdog status` prints and the load
 * balancer serves as /stats, /metrics and the dashboard.
 */

/** One upstream of a hop: what the hop sent it and how that went. */
export interface UpstreamStats {
  /** The pool it belongs to: "default" (the tier below), "external", or a named pool of the config file. */
  pool: string;
  n: number;
  label: string;
  /** Connected (or reachable) and passing its health checks. */
  alive: boolean;
  inflight: number;
  /** Attempts sent to it, attempts that ended without an answer, and attempts that were retries of another's failure. */
  requests: number;
  errors: number;
  retries: number;
}

/** The answer to `hop.stats`, asked of the load balancer and the reverse proxies. */
export interface HopStats {
  upstreams: UpstreamStats[];
  /** A cache in front of the upstreams (the proxies' square-root cache, the front door's HTTP cache). */
  cache?: { hits: number; misses: number; entries: number; bytes: number };
  /** Requests refused by the hop's rate limit. */
  rateLimited?: number;
  /** HTTP requests the hop answered besides its wire requests (the load balancer's front door): part of its load. */
  http?: { requests: number; errors: number; inflight: number };
}

export type Role = "watchdog" | "load_balancer" | "reverse_proxy" | "server";

/** One process of the fleet. */
export interface ProcessStatus {
  role: Role;
  /** Its number (Server #n, Reverse Proxy #n); 0 for the watchdog and the load balancer. */
  n: number;
  name: string;
  pid: number | null;
  /** up, starting, restarting (re-created, not serving yet), down (dead, about to be re-created), draining (stopping, finishing its requests), stopping. */
  state: string;
  restarts: number;
  uptimeSeconds: number | null;
  /** A server's reverse proxy (0 in the flat topology); null for the other roles. */
  proxy: number | null;
  address: string | null;
  /** Resident memory (RSS), null when it cannot be read (not running, not Linux). */
  memoryBytes: number | null;
  /** Requests it has answered, failed, and has in flight, wire and (the load balancer) HTTP; zeros when it could not be asked. */
  requests: number;
  errors: number;
  inflight: number;
  /** A hop's view of its upstreams (load balancer, reverse proxies), when it answered. */
  hop?: HopStats;
}

/** Something that happened to the fleet: a death, a respawn, an election, /add or /rm. */
export interface FleetEvent {
  time: number;
  kind: "death" | "respawn" | "election" | "add" | "rm" | "start" | "stop";
  text: string;
}

/** The answer to the watchdog's `fleet.status`. */
export interface FleetStatus {
  time: number;
  topology: "flat" | "two-tier";
  processes: ProcessStatus[];
  rooms: { leader: number | null; epoch: number | null };
  events: FleetEvent[];
}

/** The op a hop answers with its HopStats; not counted as load. */
export const HOP_STATS_OP = "hop.stats";
