// Scenario 4: a hung member (SIGSTOP: its connections stay open, it answers nothing). Only the
// active health checks can see it, so the time until the hop in front logs it down should be
// about interval × fall + timeout; after SIGCONT it is back after `rise` passed checks.
import type { BenchFleet } from "./fleet.ts";
import { escape, fmt, waitForLine } from "./respawn.ts";

export interface HangSample {
  label: string;
  /** SIGSTOP → the hop in front logged it down. */
  outMs: number | undefined;
  /** SIGCONT → the hop in front logged it back. */
  backMs: number | undefined;
}

export interface HangResult {
  server: HangSample[];
  proxy: HangSample[];
  warnings: string[];
}

const LINE_DEADLINE_MS = 6000;

export async function measureHangs(fleet: BenchFleet, each: number, progress: (line: string) => void): Promise<HangResult> {
  const result: HangResult = { server: [], proxy: [], warnings: [] };
  const servers = fleet.proxies * fleet.serversPerProxy;
  for (let i = 0; i < each * 2; i++) {
    const isProxy = i % 2 === 1;
    const id = isProxy ? (Math.floor(i / 2) % fleet.proxies) + 1 : (Math.floor(i / 2) % servers) + 1;
    const member = fleet.members().find((m) => m.kind === (isProxy ? "reverse_proxy" : "server") && m.id === id);
    if (member === undefined) {
      result.warnings.push(`hang: ${isProxy ? "proxy" : "server"} ${id} not found in ps`);
      continue;
    }
    const upstream = escape(isProxy ? `Proxy #${id}` : `Server #${id}`);
    const down = new RegExp(`^\\[(Load Balancer|Reverse Proxy #\\d+)\\]: ${upstream} is down`);
    const back = new RegExp(`^\\[(Load Balancer|Reverse Proxy #\\d+)\\]: ${upstream} is back`);
    const from = fleet.watchdog.lines.length;
    const stoppedAt = performance.now();
    process.kill(member.pid, "SIGSTOP");
    let out: Awaited<ReturnType<typeof waitForLine>>;
    let resumedFrom = from;
    let resumedAt = stoppedAt;
    try {
      out = await waitForLine(fleet.watchdog, from, down, stoppedAt + LINE_DEADLINE_MS);
    } finally {
      resumedFrom = fleet.watchdog.lines.length;
      resumedAt = performance.now();
      process.kill(member.pid, "SIGCONT");
    }
    const again = await waitForLine(fleet.watchdog, resumedFrom, back, resumedAt + LINE_DEADLINE_MS);
    const sample = { label: member.label, outMs: out && out.at - stoppedAt, backMs: again && again.at - resumedAt };
    if (sample.outMs === undefined) result.warnings.push(`hang: ${member.label} was not taken out within ${LINE_DEADLINE_MS} ms`);
    if (sample.backMs === undefined) result.warnings.push(`hang: ${member.label} did not come back within ${LINE_DEADLINE_MS} ms of SIGCONT`);
    (isProxy ? result.proxy : result.server).push(sample);
    progress(`hang ${member.label}: out of rotation ${fmt(sample.outMs)} after SIGSTOP, back ${fmt(sample.backMs)} after SIGCONT`);
  }
  return result;
}
