// One wrk run (keep-alive, fixed connections), its summary parsed from stdout, with the CPU ticks
// of the measured processes read just before wrk starts and just after it exits.
import { Spawned } from "@switchyard/testing";
import { trackPid, untrackPid } from "./cleanup.ts";
import { type MachineTicks, machineTicks, machineTicksBetween, snapshotTicks, ticksBetween } from "./cpu.ts";

export interface WrkShape {
  connections: number;
  /** wrk threads (one event loop each). */
  threads: number;
  /** Counted run, whole seconds (wrk's -d has a resolution of one second). */
  durationS: number;
  /** An uncounted run of this length right before each counted one. */
  warmupS: number;
  /** wrk's per-request timeout (a request slower than this counts as a timeout error). */
  timeoutS: number;
}

export interface WrkSummary {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Responses with a status outside 2xx/3xx. */
  non2xx: number;
  /** connect + read + write + timeout errors. */
  socketErrors: number;
}

export interface WrkRun extends WrkSummary {
  /** Ticks each sampled pid used between wrk's start and its exit. */
  cpuTicks: Record<string, number>;
  /** wrk's own CPU time, µs (user + system), from the kernel's rusage of the exited child. */
  wrkCpuUs: number;
  machine: MachineTicks;
}

/** The wrk command line for `url` (a Lua script, when given, may override the address per thread). */
export function wrkArgs(wrk: string, url: string, shape: WrkShape, durationS: number, script?: string): string[] {
  return [wrk, `-t${shape.threads}`, `-c${shape.connections}`, `-d${durationS}s`, `--timeout`, `${shape.timeoutS}s`, "--latency", ...(script ? ["-s", script] : []), url];
}

/** Runs wrk for `durationS` and parses its summary; throws with wrk's output when it fails or prints no summary. */
export async function runWrk(cmd: string[], durationS: number, cpuPids: readonly number[]): Promise<WrkRun> {
  const machineBefore = machineTicks();
  const before = snapshotTicks(cpuPids);
  const proc = new Spawned(cmd);
  trackPid(proc.pid);
  try {
    const code = await proc.exited(durationS * 1000 + 15_000);
    const after = snapshotTicks(cpuPids);
    const machine = machineTicksBetween(machineBefore, machineTicks());
    const summary = parseWrk(proc.stdoutText);
    if (code !== 0 || summary === undefined) throw new Error(`${cmd.join(" ")} exited with ${code ?? "a signal"}; output:\n${proc.output}`);
    const cpu = proc.proc.resourceUsage()?.cpuTime.total;
    return { ...summary, cpuTicks: ticksBetween(before, after), wrkCpuUs: cpu === undefined ? Number.NaN : Number(cpu), machine };
  } finally {
    proc.kill("SIGKILL");
    untrackPid(proc.pid);
  }
}

/**
 * wrk's summary:
 *   Latency Distribution
 *      50%  412.00us
 *      99%    2.10ms
 *   1234567 requests in 3.00s, 200.00MB read
 *   Socket errors: connect 0, read 0, write 0, timeout 3
 *   Non-2xx or 3xx responses: 12
 * Requests/sec: 411522.33
 */
export function parseWrk(text: string): WrkSummary | undefined {
  const totals = /(\d+) requests in ([\d.]+)(us|ms|s|m|h)/.exec(text);
  const rps = /Requests\/sec:\s*([\d.]+)/.exec(text);
  const p50 = /^\s*50(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$/m.exec(text);
  const p99 = /^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$/m.exec(text);
  if (!totals || !rps || !p50 || !p99) return undefined;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket ? socket.slice(1, 5).reduce((n, x) => n + Number(x), 0) : 0;
  return {
    requests: Number(totals[1]),
    seconds: toMs(totals[2]!, totals[3]!) / 1000,
    rps: Number(rps[1]),
    p50Ms: toMs(p50[1]!, p50[2]!),
    p99Ms: toMs(p99[1]!, p99[2]!),
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0),
    socketErrors,
  };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function toMs(value: string, unit: string): number {
  return Number(value) * (UNIT_MS[unit] ?? Number.NaN);
}
