// What the numbers were measured on.
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg, release } from "node:os";

export interface Machine {
  cpu: string;
  cores: number;
  bun: string;
  kernel: string;
  /** 1-minute load average when the bench started (other work on the machine skews everything). */
  loadBefore: number;
  date: string;
}

export function describeMachine(): Machine {
  let cpu = "unknown CPU";
  try {
    cpu = /^model name\s*:\s*(.+)$/m.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpu;
  } catch {
    // Not Linux: keep "unknown".
  }
  return { cpu, cores: availableParallelism(), bun: Bun.version, kernel: `Linux ${release()}`, loadBefore: loadavg()[0] ?? Number.NaN, date: new Date().toISOString() };
}
