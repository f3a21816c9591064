// Everything the bench starts (processes, temp dirs) is recorded here and removed by pid on every
// way out: normal end, exception, Ctrl-C / SIGTERM / SIGHUP, or the overall time limit.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const pids = new Set<number>();
/** Returns the pids of processes started on our behalf by someone else (the watchdog's children). */
const finders = new Set<() => number[]>();
const dirs = new Set<string>();
let cleaned = false;

export function trackPid(pid: number): void {
  pids.add(pid);
}
export function untrackPid(pid: number): void {
  pids.delete(pid);
}
export function trackFinder(find: () => number[]): () => void {
  finders.add(find);
  return () => finders.delete(find);
}
export function trackDir(dir: string): void {
  dirs.add(dir);
}
export function untrackDir(dir: string): void {
  dirs.delete(dir);
}

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Already gone.
  }
}

/**
 * SIGKILLs every tracked process (supervisors first, so nothing is respawned), then everything
 * the finders list, twice, in case a member was being respawned at that moment; removes temp dirs.
 * Synchronous, so it also works from a signal handler and from process.on("exit").
 */
export function cleanupAll(): void {
  if (cleaned) return;
  cleaned = true;
  for (const pid of pids) kill(pid);
  for (let pass = 0; pass < 2; pass++) {
    for (const find of finders) for (const pid of find()) kill(pid);
    if (pass === 0) Bun.sleepSync(50);
  }
  pids.clear();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  dirs.clear();
}

/**
 * Cleans up on Ctrl-C, SIGTERM, SIGHUP, on exit, and when `limitMs` has passed (then exits 1). Also
 * gives every fleet the bench starts a temporary data directory (servers keep reservations there),
 * so a bench (or the analysis) never touches the user's ~/.local/state/switchyard.
 */
export function installCleanupHandlers(limitMs: number, name = "bench"): void {
  if (process.env.SWITCHYARD_DATA_DIR === undefined) {
    const data = mkdtempSync(join(tmpdir(), "sy-bench-data-"));
    trackDir(data);
    process.env.SWITCHYARD_DATA_DIR = data;
  }
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(signal, () => {
      console.error(`\n${name}: ${signal}: stopping every process it started`);
      cleanupAll();
      process.exit(130);
    });
  }
  process.on("exit", () => cleanupAll());
  setTimeout(() => {
    console.error(`\n${name}: still running after ${limitMs / 1000} s; stopping every process it started`);
    cleanupAll();
    process.exit(1);
  }, limitMs).unref();
}
