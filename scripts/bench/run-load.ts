// Runs one measurement: the load generator in a process of its own, its result parsed from stdout.
import { join } from "node:path";
import { Spawned } from "@switchyard/testing";
import { trackPid, untrackPid } from "./cleanup.ts";
import { type LoadConfig, type LoadResult, parseResultLine } from "./loadgen.ts";

const LOADGEN = join(import.meta.dir, "loadgen.ts");

export async function runLoad(config: LoadConfig): Promise<LoadResult> {
  const proc = new Spawned([process.execPath, LOADGEN, JSON.stringify(config)]);
  trackPid(proc.pid);
  try {
    const code = await proc.exited(config.warmupMs + config.durationMs + config.timeoutMs + 15_000);
    const result = parseResultLine(proc.lines);
    if (code !== 0 || result === undefined) throw new Error(`load generator exited with ${code ?? "a signal"}; output:\n${proc.output}`);
    return result;
  } finally {
    proc.kill("SIGKILL");
    untrackPid(proc.pid);
  }
}
