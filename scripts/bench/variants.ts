// Several fleets that differ in their binaries or their watchdog flags, measured with the same
// chain load in interleaved rounds (A, B, C, then B, C, A, …) so that the machine's drift falls on
// all of them alike. Used by `make bench` (health checks on and off) and by ab.ts (two builds).
import { join, resolve } from "node:path";
import { fleetSocket } from "@switchyard/cli";
import { Spawned } from "@switchyard/testing";
import { trackFinder, trackPid, untrackPid } from "./cleanup.ts";
import { httpOff, processesIn } from "./fleet.ts";
import { sqrtAnswers } from "./probe.ts";
import { runLoad } from "./run-load.ts";
import { median } from "./stats.ts";
import type { LoadShape } from "./throughput.ts";

export interface Variant {
  label: string;
  /** Directory of the compiled binaries. */
  binDir: string;
  /** Extra watchdog flags. */
  args: string[];
  /** SIGKILL a server of this fleet (in rotation) every this many ms while it is measured: the cost of failover and retries. */
  killServerEveryMs?: number;
}

export type Role = "load_balancer" | "reverse_proxy" | "server";
export const ROLES: readonly Role[] = ["load_balancer", "reverse_proxy", "server"];

export interface VariantResult {
  variant: Variant;
  rps: number[];
  /** Fleet CPU µs per request, per round. */
  us: number[];
  byRole: Record<Role, number[]>;
  errors: number;
}

export async function compareVariants(
  variants: readonly Variant[],
  tmp: string,
  shape: LoadShape,
  rounds: number,
  ticksPerSecond: number,
  progress: (line: string) => void,
): Promise<VariantResult[]> {
  const fleets: Array<{ runDir: string; stop(): void }> = [];
  try {
    for (const [i, variant] of variants.entries()) fleets.push(await startVariant(variant, join(tmp, `variant-${i + 1}`)));
    // One discarded run each first, for the JIT of every process to settle (see throughput.ts).
    for (const fleet of fleets) await runLoad({ ...shape, address: fleetSocket.loadBalancer(fleet.runDir), cpuPids: [] });
    const results: VariantResult[] = variants.map((variant) => ({ variant, rps: [], us: [], byRole: { load_balancer: [], reverse_proxy: [], server: [] }, errors: 0 }));
    for (let round = 0; round < rounds; round++) {
      for (let k = 0; k < variants.length; k++) {
        const i = (round + k) % variants.length; // Rotate who goes first.
        const fleet = fleets[i]!;
        const result = results[i]!;
        const members = processesIn(fleet.runDir).filter((m) => m.kind !== "watchdog");
        const stopKilling = result.variant.killServerEveryMs === undefined ? undefined : killServers(fleet.runDir, result.variant.killServerEveryMs);
        const r = await runLoad({ ...shape, address: fleetSocket.loadBalancer(fleet.runDir), cpuPids: members.map((m) => m.pid) }).finally(() => stopKilling?.());
        const usOf = (role?: Role) =>
          ((members.filter((m) => role === undefined || m.kind === role).reduce((n, m) => n + (r.cpuTicks[m.pid] ?? 0), 0) / ticksPerSecond) * 1e6) / r.requests;
        result.rps.push(r.rps);
        result.us.push(usOf());
        for (const role of ROLES) result.byRole[role].push(usOf(role));
        result.errors += r.errors + r.wrong;
        const roles = ROLES.map((role) => `${role} ${usOf(role).toFixed(2)}`).join(", ");
        progress(`${result.variant.label} ${round + 1}/${rounds}: ${Math.round(r.rps).toLocaleString("en-US")} req/s, fleet ${usOf().toFixed(2)} µs/request (${roles})`);
      }
    }
    return results;
  } finally {
    for (const fleet of fleets) fleet.stop();
  }
}

export function summarise(results: readonly VariantResult[]): string[] {
  const base = results[0];
  return results.map((r) => {
    const roles = ROLES.map((role) => `${role} ${median(r.byRole[role]).toFixed(2)}`).join(", ");
    const vs = base && r !== base ? `; vs ${base.variant.label}: throughput ${(median(r.rps) / median(base.rps)).toFixed(3)}×, CPU ${(median(r.us) / median(base.us)).toFixed(3)}×` : "";
    return `${r.variant.label}: median ${Math.round(median(r.rps)).toLocaleString("en-US")} req/s, ${median(r.us).toFixed(2)} µs/request (${roles})${vs}`;
  });
}

/** Kills the fleet's servers one after another, every `everyMs`; returns how to stop. */
function killServers(runDir: string, everyMs: number): () => void {
  let next = 0;
  const timer = setInterval(() => {
    const servers = processesIn(runDir)
      .filter((m) => m.kind === "server")
      .sort((a, b) => a.id - b.id);
    const victim = servers[next++ % Math.max(1, servers.length)];
    if (victim === undefined) return;
    try {
      process.kill(victim.pid, "SIGKILL");
    } catch {
      // Already gone: its replacement is starting.
    }
  }, everyMs);
  return () => clearInterval(timer);
}

async function startVariant(variant: Variant, runDir: string): Promise<{ runDir: string; stop(): void }> {
  const watchdog = new Spawned([resolve(variant.binDir, "watchdog"), "--run-dir", runDir, "--log-level", "warn", ...httpOff(resolve(variant.binDir, "watchdog")), ...variant.args]);
  trackPid(watchdog.pid);
  const forget = trackFinder(() => processesIn(runDir).map((m) => m.pid));
  const stop = () => {
    watchdog.kill("SIGKILL");
    for (const member of processesIn(runDir)) {
      try {
        process.kill(member.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    untrackPid(watchdog.pid);
    forget();
  };
  const address = fleetSocket.loadBalancer(runDir);
  const deadline = performance.now() + 20_000;
  while (!(await sqrtAnswers(address, 1, 250))) {
    if (performance.now() > deadline || watchdog.proc.exitCode !== null) {
      stop();
      throw new Error(`${variant.label}: the fleet did not answer within 20 s:\n${watchdog.output}`);
    }
    await Bun.sleep(20);
  }
  return { runDir, stop };
}
