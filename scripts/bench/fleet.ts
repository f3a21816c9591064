// Starting what is measured: a watchdog fleet in its own run directory, and one standalone server.
// Both are registered with cleanup.ts at once, so they are killed by pid on every way out.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { fleetSocket } from "@switchyard/cli";
import { Spawned, binary } from "@switchyard/testing";
import { trackFinder, trackPid, untrackPid } from "./cleanup.ts";
import { type Member, processesIn } from "./members.ts";
import { sqrtAnswers } from "./probe.ts";

export { type Member, type MemberKind, processesIn } from "./members.ts";

export interface BenchFleet {
  readonly runDir: string;
  readonly watchdog: Spawned;
  /** The load balancer's socket. */
  readonly address: string;
  readonly proxies: number;
  readonly serversPerProxy: number;
  proxyAddress(k: number): string;
  serverAddress(n: number): string;
  /** The processes running now with this run directory, from `ps`. */
  members(): Member[];
  /** SIGKILL to the watchdog and to every member by pid; removes the run directory. */
  stop(): Promise<void>;
}

/** `./watchdog --run-dir <runDir> --log-level <level>` (default fleet: 2 proxies × 3 servers), ready when every member socket answers. */
export async function startFleet(runDir: string, logLevel: string, readyTimeoutMs = 20_000): Promise<BenchFleet> {
  const proxies = 2;
  const serversPerProxy = 3;
  const watchdog = new Spawned([binary("watchdog"), "--run-dir", runDir, "--log-level", logLevel, ...httpOff(binary("watchdog"))]);
  trackPid(watchdog.pid);
  const forget = trackFinder(() => processesIn(runDir).map((m) => m.pid));
  const fleet: BenchFleet = {
    runDir,
    watchdog,
    address: fleetSocket.loadBalancer(runDir),
    proxies,
    serversPerProxy,
    proxyAddress: (k) => fleetSocket.proxy(runDir, k),
    serverAddress: (n) => fleetSocket.server(runDir, n),
    members: () => processesIn(runDir),
    stop: () => destroyFleet(watchdog, runDir, forget),
  };

  const sockets = [
    ...Array.from({ length: proxies * serversPerProxy }, (_, i) => fleet.serverAddress(i + 1)),
    ...Array.from({ length: proxies }, (_, i) => fleet.proxyAddress(i + 1)),
    fleet.address,
  ];
  const deadline = performance.now() + readyTimeoutMs;
  try {
    for (const [i, socket] of sockets.entries()) {
      while (!(await sqrtAnswers(socket, i + 1, 250))) {
        if (watchdog.proc.exitCode !== null || watchdog.proc.signalCode !== null) throw new Error(`the watchdog exited:\n${watchdog.output}`);
        if (performance.now() > deadline) throw new Error(`${socket} did not answer within ${readyTimeoutMs} ms; watchdog output:\n${watchdog.output}`);
        await Bun.sleep(20);
      }
    }
    const expected = 2 + proxies + proxies * serversPerProxy;
    const found = fleet.members();
    if (found.length !== expected) throw new Error(`expected ${expected} fleet processes, ps shows ${found.length}: ${found.map((m) => m.label).join(", ")}`);
  } catch (error) {
    await fleet.stop();
    throw error;
  }
  return fleet;
}

export interface Standalone {
  readonly pid: number;
  readonly address: string;
  readonly proc: Spawned;
  stop(): Promise<void>;
}

/** `./server --id 1 --listen unix:<dir>/direct.sock --log-level warn`, ready when it answers. */
export async function startStandaloneServer(dir: string, readyTimeoutMs = 10_000): Promise<Standalone> {
  const address = `unix:${join(dir, "direct.sock")}`;
  const proc = new Spawned([binary("server"), "--id", "1", "--listen", address, "--log-level", "warn"]);
  trackPid(proc.pid);
  const server: Standalone = {
    pid: proc.pid,
    address,
    proc,
    async stop() {
      proc.kill("SIGKILL");
      await proc.exited(5000).catch(() => undefined);
      untrackPid(proc.pid);
    },
  };
  const deadline = performance.now() + readyTimeoutMs;
  while (!(await sqrtAnswers(address, 1, 250))) {
    if (proc.proc.exitCode !== null || performance.now() > deadline) {
      await server.stop();
      throw new Error(`the standalone server did not answer on ${address}; output:\n${proc.output}`);
    }
    await Bun.sleep(20);
  }
  return server;
}

const httpOffCache = new Map<string, string[]>();

/**
 * `--http-port off` for a watchdog that has an HTTP front door (its default port is fixed, so two
 * fleets at once, as in variants.ts, would collide on it), nothing for an older build without one.
 */
export function httpOff(watchdog: string): string[] {
  let args = httpOffCache.get(watchdog);
  if (args === undefined) {
    const help = Bun.spawnSync([watchdog, "--help"], { timeout: 5000 }).stdout.toString();
    args = /--http-port\b[^\n]*\boff\b/.test(help) ? ["--http-port", "off"] : [];
    httpOffCache.set(watchdog, args);
  }
  return args;
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/** SIGKILL to the watchdog and every member of its run directory (twice: a dying watchdog may still spawn), then forget them and remove the directory. */
export async function destroyFleet(watchdog: Spawned, runDir: string, forget: () => void): Promise<void> {
  watchdog.kill("SIGKILL");
  for (let pass = 0; pass < 2; pass++) {
    for (const member of processesIn(runDir)) killQuietly(member.pid);
    await Bun.sleep(50);
  }
  await watchdog.exited(5000).catch(() => undefined);
  untrackPid(watchdog.pid);
  forget();
  rmSync(runDir, { recursive: true, force: true });
}
