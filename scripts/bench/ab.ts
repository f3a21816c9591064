// `bun scripts/bench/ab.ts <dirA> <dirB> [repetitions]`: the chain benchmark against two builds
// (each directory holds compiled binaries), interleaved A, B, A, B…, in the same run. Prints the
// median req/s and the fleet's CPU µs per request of each, and B/A. For trying an optimisation
// against the commit before it; `make bench` remains the figure of record.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fleetSocket } from "@switchyard/cli";
import { Spawned } from "@switchyard/testing";
import { cleanupAll, installCleanupHandlers, trackDir, trackFinder, trackPid } from "./cleanup.ts";
import { clockTicksPerSecond } from "./cpu.ts";
import { processesIn } from "./fleet.ts";
import { sqrtAnswers } from "./probe.ts";
import { runLoad } from "./run-load.ts";
import { median } from "./stats.ts";

const [dirA, dirB, reps = "5"] = process.argv.slice(2);
if (!dirA || !dirB) {
  console.error("usage: bun scripts/bench/ab.ts <dirA> <dirB> [repetitions]");
  process.exit(64);
}
installCleanupHandlers(300_000);
const tmp = mkdtempSync(join(tmpdir(), "sy-ab-"));
trackDir(tmp);
const ticks = clockTicksPerSecond();

async function start(dir: string, name: string) {
  const runDir = join(tmp, name);
  const watchdog = new Spawned([resolve(dir, "watchdog"), "--run-dir", runDir, "--log-level", "warn"]);
  trackPid(watchdog.pid);
  trackFinder(() => processesIn(runDir).map((m) => m.pid));
  const address = fleetSocket.loadBalancer(runDir);
  const deadline = performance.now() + 20_000;
  while (!(await sqrtAnswers(address, 1, 250))) {
    if (performance.now() > deadline) throw new Error(`${name} fleet not ready:\n${watchdog.output}`);
    await Bun.sleep(20);
  }
  await Bun.sleep(500);
  return { name, runDir, address };
}

const fleets = [await start(dirA, "A"), await start(dirB, "B")];
type Kind = "load_balancer" | "reverse_proxy" | "server";
const KINDS: Kind[] = ["load_balancer", "reverse_proxy", "server"];
const results = new Map<string, { rps: number[]; us: number[]; byKind: Record<Kind, number[]> }>(
  fleets.map((f) => [f.name, { rps: [], us: [], byKind: { load_balancer: [], reverse_proxy: [], server: [] } }]),
);
for (let rep = 1; rep <= Number(reps); rep++) {
  for (const fleet of rep % 2 === 1 ? fleets : [...fleets].reverse()) {
    const members = processesIn(fleet.runDir).filter((m) => m.kind !== "watchdog");
    const r = await runLoad({ address: fleet.address, connections: 64, depth: 16, warmupMs: 1000, durationMs: 3000, timeoutMs: 5000, cpuPids: members.map((m) => m.pid) });
    const usOf = (kind?: Kind) =>
      (members.filter((m) => kind === undefined || m.kind === kind).reduce((n, m) => n + (r.cpuTicks[m.pid] ?? 0), 0) / ticks) * 1e6 / r.requests;
    const result = results.get(fleet.name)!;
    result.rps.push(r.rps);
    result.us.push(usOf());
    for (const kind of KINDS) result.byKind[kind].push(usOf(kind));
    const parts = KINDS.map((k) => `${k} ${usOf(k).toFixed(2)}`).join(", ");
    console.log(`${fleet.name} ${rep}: ${Math.round(r.rps)} req/s, fleet ${usOf().toFixed(2)} µs/req (${parts}), errors ${r.errors}`);
  }
}
const a = results.get("A")!;
const b = results.get("B")!;
for (const [name, r] of [["A", a], ["B", b]] as const) {
  const parts = KINDS.map((k) => `${k} ${median(r.byKind[k]).toFixed(2)}`).join(", ");
  console.log(`${name} median ${Math.round(median(r.rps))} req/s, ${median(r.us).toFixed(2)} µs/req (${parts})`);
}
console.log(`B/A throughput ${(median(b.rps) / median(a.rps)).toFixed(3)}, CPU ${(median(b.us) / median(a.us)).toFixed(3)}`);
cleanupAll();
process.exit(0);
