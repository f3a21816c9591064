import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spawned, binary } from "./process.ts";

/** pids of every process whose command line runs one of our binaries with this run directory. */
export function fleetPids(runDir: string): number[] {
  const out = Bun.spawnSync(["ps", "-eo", "pid=,args="]).stdout.toString();
  return out
    .split("\n")
    .filter((line) => line.includes(runDir) && /\/(watchdog|load_balancer|reverse_proxy|server)\s/.test(line))
    .map((line) => Number.parseInt(line.trim(), 10))
    .filter((pid) => pid !== process.pid);
}

export interface Fleet {
  readonly runDir: string;
  readonly watchdog: Spawned;
  /** `unix:<runDir>/load_balancer.sock` */
  readonly address: string;
  /** pid of a member, from `ps` (e.g. "reverse_proxy --id 2", "server --id 5", "load_balancer"). */
  pidOf(pattern: string): number | undefined;
  /** Stops the whole fleet by pid: SIGKILL to the watchdog and every member still alive; removes the run directory. */
  destroy(): Promise<void>;
}

export interface FleetOptions {
  /** Start the watchdog in a process group of its own, like a shell's foreground job (for Ctrl-C / Ctrl-Z to the group). */
  detached?: boolean;
}

/** Starts `./watchdog` in a fresh run directory and waits for its "Fleet ready" line. */
export async function startFleet(args: string[] = [], readyTimeoutMs = 30_000, options: FleetOptions = {}): Promise<Fleet> {
  const runDir = mkdtempSync(join(tmpdir(), "sy-"));
  const watchdog = new Spawned([binary("watchdog"), "--run-dir", runDir, ...args], { detached: options.detached ?? false });
  const fleet: Fleet = {
    runDir,
    watchdog,
    address: `unix:${join(runDir, "load_balancer.sock")}`,
    pidOf(pattern) {
      const out = Bun.spawnSync(["ps", "-eo", "pid=,args="]).stdout.toString();
      const line = out.split("\n").find((l) => l.includes(runDir) && l.includes(pattern));
      return line === undefined ? undefined : Number.parseInt(line.trim(), 10);
    },
    async destroy() {
      watchdog.kill("SIGKILL");
      for (const pid of fleetPids(runDir)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
      await watchdog.exited(10_000).catch(() => undefined);
      rmSync(runDir, { recursive: true, force: true });
    },
  };
  try {
    await watchdog.waitForLine("Fleet ready", readyTimeoutMs);
  } catch (error) {
    await fleet.destroy();
    throw error;
  }
  return fleet;
}
