// The fleets the analysis measures: `./watchdog` in a run directory of its own, registered with the
// bench's clean-up so every process is killed by pid on every way out (end, error, Ctrl-C, time limit).
import { type Fleet, fleetPids, parsePrometheus, promSum, startFleet } from "@switchyard/testing";
import type { ProcessStatus } from "@switchyard/wire";
import { trackFinder, trackPid, untrackPid } from "../bench/cleanup.ts";

export interface AnalysisFleet {
  readonly fleet: Fleet;
  /** The front door, http://127.0.0.1:<port>. */
  readonly base: string;
  stop(): Promise<void>;
}

/**
 * `./watchdog --proxies 0 --servers <n> --lb-policy <policy> --http-port 0` (the flat topology of
 * seeds/002: the load balancer in front of the servers), ready once the load balancer counts every
 * server up, so no request is routed past a server that is still being dialled.
 */
export async function startFlatFleet(n: number, policy: string, readyTimeoutMs = 30_000): Promise<AnalysisFleet> {
  const fleet = await startFleet(["--proxies", "0", "--servers", String(n), "--lb-policy", policy, "--log-level", "info"], readyTimeoutMs);
  trackPid(fleet.watchdog.pid);
  const forget = trackFinder(() => fleetPids(fleet.runDir));
  const handle: AnalysisFleet = {
    fleet,
    base: fleet.httpUrl(),
    async stop() {
      await fleet.destroy();
      untrackPid(fleet.watchdog.pid);
      forget();
    },
  };
  try {
    await untilServersUp(handle.base, n, readyTimeoutMs);
  } catch (error) {
    await handle.stop();
    throw error;
  }
  return handle;
}

/** Waits until the load balancer's /metrics shows `n` upstreams up (asked every 20 ms). */
async function untilServersUp(base: string, n: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const text = await fetch(`${base}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) => r.text(), () => "");
    if (text !== "" && promSum(parsePrometheus(text), "switchyard_upstream_up", { tier: "load_balancer" }) === n) return;
    if (performance.now() > deadline) throw new Error(`the load balancer at ${base} did not see ${n} servers up within ${timeoutMs} ms`);
    await Bun.sleep(20);
  }
}

/** Requests each server answered, by the fleet's own count (GET /stats): a check on the answers the load generator read. */
export async function servedPerServer(base: string): Promise<Map<number, number>> {
  const stats = (await (await fetch(`${base}/stats`, { signal: AbortSignal.timeout(5000) })).json()) as { processes: Array<Pick<ProcessStatus, "role" | "n" | "requests">> };
  return new Map(stats.processes.filter((p) => p.role === "server").map((p) => [p.n, p.requests]));
}
