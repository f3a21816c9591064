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
  /** The HTTP front door, "http://127.0.0.1:<port>", as the load balancer last announced it (its port is picked by the kernel). */
  httpUrl(): string;
  /** pid of a member, from `ps` (e.g. "reverse_proxy --id 2", "server --id 5", "load_balancer"). */
  pidOf(pattern: string): number | undefined;
  /** Stops the whole fleet by pid: SIGKILL to the watchdog and every member still alive; removes the run directory. */
  destroy(): Promise<void>;
}

export interface FleetOptions {
  /** Start the watchdog in a process group of its own, like a shell's foreground job (for Ctrl-C / Ctrl-Z to the group). */
  detached?: boolean;
}

/** The load balancer's start-up line names its HTTP address. */
const HTTP_URL = /HTTP on (https?:\/\/\S+)/;

/**
 * Starts `./watchdog` in a fresh run directory and waits for its "Fleet ready" line. The HTTP front
 * door gets a free port (--http-port 0) unless `args` name one, so fleets never collide on 5000.
 */
export async function startFleet(args: string[] = [], readyTimeoutMs = 30_000, options: FleetOptions = {}): Promise<Fleet> {
  const runDir = mkdtempSync(join(tmpdir(), "sy-"));
  const port = args.includes("--http-port") ? [] : ["--http-port", "0"];
  // Reservations go to the fleet's own directory (beside its run directory, which must be empty after a clean stop), not the user's, unless the test names one.
  const dataDir = args.includes("--data-dir") ? undefined : mkdtempSync(join(tmpdir(), "sy-data-"));
  const env = dataDir === undefined ? undefined : { ...process.env, SWITCHYARD_DATA_DIR: dataDir };
  const watchdog = new Spawned([binary("watchdog"), "--run-dir", runDir, ...port, ...args], { detached: options.detached ?? false, env });
  const fleet: Fleet = {
    runDir,
    watchdog,
    address: `unix:${join(runDir, "load_balancer.sock")}`,
    httpUrl() {
      const line = watchdog.lines.findLast((l) => l.includes("[Load Balancer]") && HTTP_URL.test(l));
      const url = line === undefined ? undefined : HTTP_URL.exec(line)?.[1];
      if (url === undefined) throw new Error(`the load balancer has not announced an HTTP address; output:\n${watchdog.output}`);
      return url.replace(/[.;,]$/, "");
    },
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
      if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
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
