// Scenario 3: SIGKILL a member of a running fleet and time how long until it serves again, from
// outside (a new connection to its socket answers a sqrt request) and by the watchdog's own
// "is back (pid …, serving N ms after its death)" line (its clock starts when it reaps the child).
import type { BenchFleet, Member } from "./fleet.ts";
import { processState } from "./cpu.ts";
import { sqrtAnswers, waitUntilServing } from "./probe.ts";

export interface RespawnSample {
  label: string;
  /** Kill → first correct answer on a new connection to its socket, ms; undefined if it never came. */
  servingMs: number | undefined;
  /** The watchdog's figure; undefined when its line did not appear. */
  watchdogMs: number | undefined;
}

export interface RespawnResult {
  server: RespawnSample[];
  proxy: RespawnSample[];
  warnings: string[];
}

const SERVE_DEADLINE_MS = 5000;
const SETTLE_MS = 150;

export async function measureRespawns(fleet: BenchFleet, killsEach: number, budgetMs: number, progress: (line: string) => void): Promise<RespawnResult> {
  const result: RespawnResult = { server: [], proxy: [], warnings: [] };
  const stopAt = performance.now() + budgetMs;
  const servers = fleet.proxies * fleet.serversPerProxy;
  // Rotating over the members keeps each one under the watchdog's crash-loop threshold
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
    const address = target.kind === "server" ? fleet.serverAddress(target.id) : fleet.proxyAddress(target.id);
    const sample = await killAndTime(fleet, member, address, result.warnings);
    (target.kind === "server" ? result.server : result.proxy).push(sample);
    progress(`respawn ${sample.label}: serving again ${fmt(sample.servingMs)} after SIGKILL (watchdog: ${fmt(sample.watchdogMs)})`);
    await Bun.sleep(SETTLE_MS);
  }
  const crashLoop = fleet.watchdog.lines.filter((l) => l.includes("keeps crashing"));
  if (crashLoop.length > 0) result.warnings.push(`respawn: the watchdog's crash-loop backoff engaged: ${crashLoop[0]}`);
  return result;
}

async function killAndTime(fleet: BenchFleet, member: Member, address: string, warnings: string[]): Promise<RespawnSample> {
  const client = member.kind === "reverse_proxy" ? member.id : 1;
  if (!(await sqrtAnswers(address, client, 1000))) warnings.push(`respawn: ${member.label} did not answer before being killed`);
  const firstLine = fleet.watchdog.lines.length;

  const killedAt = performance.now();
  process.kill(member.pid, "SIGKILL");
  // Probe only once the old process is really gone, so a dying process cannot answer.
  while (!isDead(member.pid) && performance.now() - killedAt < 2000) await Bun.sleep(0.5);
  const servingAt = await waitUntilServing(address, client, killedAt + SERVE_DEADLINE_MS);
  if (servingAt === undefined) warnings.push(`respawn: ${member.label} did not serve again within ${SERVE_DEADLINE_MS} ms`);

  // The watchdog logs "is back" when the new process reports ready on the control socket.
  const pattern = new RegExp(`${escape(member.label)} is back \\(pid (\\d+), serving (\\d+) ms after its death\\)`);
  let watchdogMs: number | undefined;
  const lineDeadline = performance.now() + 2000;
  while (watchdogMs === undefined && performance.now() < lineDeadline) {
    for (const line of fleet.watchdog.lines.slice(firstLine)) {
      const match = pattern.exec(line);
      if (match && Number(match[1]) !== member.pid) watchdogMs = Number(match[2]);
    }
    if (watchdogMs === undefined) await Bun.sleep(5);
  }
  if (watchdogMs === undefined) warnings.push(`respawn: no "${member.label} is back" line from the watchdog`);
  return { label: member.label, servingMs: servingAt === undefined ? undefined : servingAt - killedAt, watchdogMs };
}

function isDead(pid: number): boolean {
  const state = processState(pid);
  return state === undefined || state === "Z" || state === "X";
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function fmt(ms: number | undefined): string {
  return ms === undefined ? "never" : `${ms.toFixed(1)} ms`;
}
