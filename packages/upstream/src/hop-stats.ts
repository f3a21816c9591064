import type { UpstreamStats } from "@switchyard/wire";

/**
 * What a hop (the load balancer, a reverse proxy) did with one upstream, for metrics and /stats:
 * the attempts it sent, the attempts that ended without an answer, and how many attempts were
 * retries of a failed one. Plain counters on the hot path, read only when someone asks.
 */
export class AttemptCounts {
  requests = 0;
  errors = 0;
  retries = 0;
}

/** Something a hop forwards to. */
export interface CountedUpstream {
  readonly n: number;
  readonly label: string;
  readonly alive: boolean;
  readonly inflight: number;
  readonly counts: AttemptCounts;
}

export function upstreamStats(pool: string, members: readonly CountedUpstream[]): UpstreamStats[] {
  return members.map(({ n, label, alive, inflight, counts }) => ({ pool, n, label, alive, inflight, ...counts }));
}
