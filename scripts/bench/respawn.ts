// Scenario 3: SIGKILL a member of a running fleet and time how long until it serves again:
// - from outside: a new connection to its own socket gets a correct sqrt answer;
// - the watchdog's own "is back (pid …, serving N ms after its death)" line (its clock starts
//   when it reaps the child, so it misses the few ms between the kill and the reaping);
// - when the hop in front of it (load balancer for a proxy, proxy for a server) logs
//   "<upstream> is back": from then on regular traffic reaches it again;
// - and before all that, when the hop in front logs "<upstream> is down": it is out of rotation.
import type { Spawned } from "@switchyard/testing";
import type { BenchFleet, Member } from "./fleet.ts";
import { processState } from "./cpu.ts";
import { sqrtAnswers, waitUntilServing } from "./probe.ts";

export interface RespawnSample {
  label: string;
  /** Kill → first correct answer on a new connection to its socket, ms; undefined if it never came. */
  servingMs: number | undefined;
  /** The watchdog's figure; undefined when its line did not appear. */
  watchdogMs: number | undefined;
  /** Kill → the hop in front of it logged that it reconnected (seen by polling its output every 2 ms). */
  reconnectedMs: number | undefined;
  /** Kill → the hop in front of it logged it down, i.e. took it out of rotation. */
  outMs: number | undefined;
}

export interface RespawnResult {
  server: RespawnSample[];
  proxy: RespawnSample[];
  warnings: string[];
}

const SERVE_DEADLINE_MS = 5000;
const LINE_DEADLINE_MS = 3000;
const SETTLE_MS = 150;

export async function measureRespawns(fleet: BenchFleet, killsEach: number, budgetMs: number, progress: (line: string) => void): Promise<RespawnResult> {
  const result: RespawnResult = { server: [], proxy: [], warnings: [] };
  const stopAt = performance.now() + budgetMs;
  const servers = fleet.proxies * fleet.serversPerProxy;
  // Rotating over the members keeps each one at or under the watchdog's crash-loop threshold
  // (more than 5 restarts within 10 s), which would add a deliberate 1 s delay.
  const plan: Array<{ kind: "server" | "reverse_proxy"; id: number }> = [];
  for (let i = 0; i < killsEach; i++) plan.push({ kind: "server", id: (i % servers) + 1 });
  for (let i = 0; i < killsEach; i++) plan.push({ kind: "reverse_proxy", id: (i % fleet.proxies) + 1 });

  for (const target of plan) {
    if (performance.now() > stopAt) {
      result.warnings.push(`respawn: stopped after ${result.server.length + result.proxy.length} kills (time budget of ${budgetMs / 1000} s used up)`);
      break;
    }
    const member = fleet.members().find((m) => m.kind === target.kind && m.id === target.id);
    if (member === undefined) {
      result.warnings.push(`respawn: ${target.kind} ${target.id} not found in ps`);
      continue;
    }
    const sample = await killAndTime(fleet, member, result.warnings);
    (target.kind === "server" ? result.server : result.proxy).push(sample);
    progress(`respawn ${sample.label}: serving again ${fmt(sample.servingMs)} after SIGKILL (watchdog: ${fmt(sample.watchdogMs)}, reconnected: ${fmt(sample.reconnectedMs)})`);
    await Bun.sleep(SETTLE_MS);
  }
  const crashLoop = fleet.watchdog.lines.filter((l) => l.includes("keeps crashing"));
  if (crashLoop.length > 0) result.warnings.push(`respawn: the watchdog's crash-loop backoff engaged: ${crashLoop[0]}`);
  return result;
}

async function killAndTime(fleet: BenchFleet, member: Member, warnings: string[]): Promise<RespawnSample> {
  const isProxy = member.kind === "reverse_proxy";
  const address = isProxy ? fleet.proxyAddress(member.id) : fleet.serverAddress(member.id);
  const client = isProxy ? member.id : 1;
  if (!(await sqrtAnswers(address, client, 1000))) warnings.push(`respawn: ${member.label} did not answer before being killed`);
  const output = fleet.watchdog; // The watchdog's output carries every member's log lines too.
  const firstLine = output.lines.length;
  // How the hop in front names it in its upstream pool.
  const upstreamLabel = isProxy ? `Proxy #${member.id}` : `Server #${member.id}`;
  const frontLine = new RegExp(`^\\[(Load Balancer|Reverse Proxy #\\d+)\\]: ${escape(upstreamLabel)} is back$`);
  const downLine = new RegExp(`^\\[(Load Balancer|Reverse Proxy #\\d+)\\]: ${escape(upstreamLabel)} is down`);
  const backLine = new RegExp(`^\\[Watchdog\\]: ${escape(member.label)} is back \\(pid (\\d+), serving (\\d+) ms after its death\\)`);

  const killedAt = performance.now();
  process.kill(member.pid, "SIGKILL");
  const reconnected = waitForLine(output, firstLine, frontLine, killedAt + LINE_DEADLINE_MS);
  const out = waitForLine(output, firstLine, downLine, killedAt + LINE_DEADLINE_MS);
  // Probe only once the old process is really gone, so a dying process cannot answer.
  while (!isDead(member.pid) && performance.now() - killedAt < 2000) await Bun.sleep(0.5);
  const servingAt = await waitUntilServing(address, client, killedAt + SERVE_DEADLINE_MS);
  if (servingAt === undefined) warnings.push(`respawn: ${member.label} did not serve again within ${SERVE_DEADLINE_MS} ms`);

  const back = await waitForLine(output, firstLine, backLine, performance.now() + LINE_DEADLINE_MS);
  const watchdogMs = back === undefined || Number(back.match[1]) === member.pid ? undefined : Number(back.match[2]);
  if (watchdogMs === undefined) warnings.push(`respawn: no "${member.label} is back" line from the watchdog`);
  const front = await reconnected;
  if (front === undefined) warnings.push(`respawn: the hop in front of ${member.label} did not log "${upstreamLabel} is back" within ${LINE_DEADLINE_MS} ms`);
  const down = await out;
  if (down === undefined) warnings.push(`respawn: the hop in front of ${member.label} did not log "${upstreamLabel} is down" within ${LINE_DEADLINE_MS} ms`);
  return {
    label: member.label,
    servingMs: servingAt === undefined ? undefined : servingAt - killedAt,
    watchdogMs,
    reconnectedMs: front === undefined ? undefined : front.at - killedAt,
    outMs: down === undefined ? undefined : down.at - killedAt,
  };
}

/** Polls `spawned`'s lines from index `from` every 2 ms until one matches or `deadline` passes. */
export async function waitForLine(spawned: Spawned, from: number, pattern: RegExp, deadline: number): Promise<{ match: RegExpExecArray; at: number } | undefined> {
  let next = from;
  for (;;) {
    for (; next < spawned.lines.length; next++) {
      const match = pattern.exec(spawned.lines[next]!);
      if (match) return { match, at: performance.now() };
    }
    if (performance.now() > deadline) return undefined;
    await Bun.sleep(2);
  }
}

function isDead(pid: number): boolean {
  const state = processState(pid);
  return state === undefined || state === "Z" || state === "X";
}

export function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

export function fmt(ms: number | undefined): string {
  return ms === undefined ? "never" : `${ms.toFixed(1)} ms`;
}
