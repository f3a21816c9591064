// CPU time of other processes from /proc/<pid>/stat (utime + stime, in clock ticks).
import { readFileSync } from "node:fs";

/** utime + stime of every thread of `pid`, in clock ticks; undefined when the process is gone. */
export function cpuTicks(pid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ')'.
  // What follows starts at field 3 (state); utime and stime are fields 14 and 15.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** Ticks of each pid at one moment (pids that are gone are left out). */
export function snapshotTicks(pids: readonly number[]): Map<number, number> {
  const out = new Map<number, number>();
  for (const pid of pids) {
    const ticks = cpuTicks(pid);
    if (ticks !== undefined) out.set(pid, ticks);
  }
  return out;
}

/** Ticks used between two snapshots, per pid present in both. */
export function ticksBetween(before: Map<number, number>, after: Map<number, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [pid, start] of before) {
    const end = after.get(pid);
    if (end !== undefined) out[pid] = end - start;
  }
  return out;
}

/** Clock ticks per second (`getconf CLK_TCK`; 100 on every usual Linux). */
export function clockTicksPerSecond(): number {
  const out = Bun.spawnSync(["getconf", "CLK_TCK"]).stdout.toString().trim();
  const value = Number(out);
  return Number.isFinite(value) && value > 0 ? value : 100;
}

/** State letter of a process (R, S, Z, …), undefined when it no longer exists. */
export function processState(pid: number): string | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    return text.slice(text.lastIndexOf(")") + 2, text.lastIndexOf(")") + 3);
  } catch {
    return undefined;
  }
}

export interface MachineTicks {
  /** Ticks all cores spent running anything (user, nice, system, irq, softirq). */
  busy: number;
  /** Ticks the hypervisor gave to someone else while we wanted to run. */
  steal: number;
  /** All ticks of all cores (busy + idle + iowait + steal). */
  total: number;
}

/** Machine-wide CPU ticks from the first line of /proc/stat. */
export function machineTicks(): MachineTicks {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  const busy = user + nice + system + irq + softirq;
  return { busy, steal, total: busy + idle + iowait + steal };
}

export function machineTicksBetween(before: MachineTicks, after: MachineTicks): MachineTicks {
  return { busy: after.busy - before.busy, steal: after.steal - before.steal, total: after.total - before.total };
}
