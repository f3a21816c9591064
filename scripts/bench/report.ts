// The markdown the bench prints and writes into report.md between the bench markers.
import type { LoadResult } from "./loadgen.ts";
import { END_MARKER, START_MARKER, writeSection } from "./report-file.ts";
import type { Machine } from "./machine.ts";
import type { HangResult, HangSample } from "./hang.ts";
import type { RespawnResult, RespawnSample } from "./respawn.ts";
import type { VariantResult } from "./variants.ts";
import { max, median, min } from "./stats.ts";
import { type CpuRow, GENERATOR_LABEL, type MachineShare, type ThroughputResult } from "./throughput.ts";

export { END_MARKER, START_MARKER } from "./report-file.ts";
const TARGET_RATIO = 0.3;

export interface BenchReport {
  command: string;
  machine: Machine;
  throughput: ThroughputResult;
  healthCost: VariantResult[];
  respawn: RespawnResult;
  hang: HangResult;
  /** The health settings the hang measurement ran with. */
  health: { intervalMs: number; timeoutMs: number; rise: number; fall: number };
  /** Log level of the fleet used for the respawn measurement. */
  respawnLogLevel: string;
  ticksPerSecond: number;
  elapsedS: number;
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "–");

export function renderReport(r: BenchReport): string {
  const t = r.throughput;
  const s = t.shape;
  const med = (runs: LoadResult[], pick: (x: LoadResult) => number) => median(runs.map(pick));
  const dRps = med(t.direct, (x) => x.rps);
  const cRps = med(t.chain, (x) => x.rps);
  const ratio = cRps / dRps;
  const pairRatios = t.chain.map((c, i) => c.rps / (t.direct[i]?.rps ?? Number.NaN));
  const pct = (shares: MachineShare[], pick: (m: MachineShare) => number) => `${(median(shares.map(pick)) * 100).toFixed(0)} %`;
  const row = (label: string, runs: LoadResult[], shares: MachineShare[], vs: string) =>
    `| ${label} | ${int(med(runs, (x) => x.rps))} | ${int(min(runs.map((x) => x.rps)))} – ${int(max(runs.map((x) => x.rps)))} | ${ms(med(runs, (x) => x.latencyMs.p50))} | ${ms(med(runs, (x) => x.latencyMs.p99))} | ${runs.reduce((n, x) => n + x.errors + x.wrong, 0)} | ${pct(shares, (m) => m.busy)} | ${pct(shares, (m) => m.others)} | ${vs} |`;

  const lines = [
    `Measured by \`${r.command}\` (scripts/bench.ts) on ${r.machine.date.slice(0, 16).replace("T", " ")} UTC; the whole run took ${r.elapsedS.toFixed(0)} s.`,
    "",
    `Machine: ${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.kernel}, Bun ${r.machine.bun}; 1-minute load average ${r.machine.loadBefore.toFixed(2)} before the run.`,
    "",
    `**Chain vs direct.** ${s.connections} connections × ${s.depth} sqrt requests in flight each (${s.connections * s.depth} outstanding), ` +
      `client ids 1–${s.connections} (odd → Proxy #1, even → Proxy #2). Each measurement: ${s.warmupMs / 1000} s warm-up, then ${s.durationMs / 1000} s counted; ` +
      `${t.repetitions} repetitions of each, interleaved (direct, chain, direct, chain, …), after one discarded run of each (the JIT of ten fresh processes takes longer than one warm-up to settle). Direct = one standalone \`./server --id 1 --listen unix:<tmp>/direct.sock --log-level warn\`; ` +
      `chain = load balancer → reverse proxy → server of \`./watchdog --run-dir <tmp> --log-level warn\` (2 proxies × 3 servers), all over Unix sockets. ` +
      `Every answer is checked against \`Math.sqrt\`. The load generator is one Bun process (one \`Peer\` per connection) that **shares the ${r.machine.cores} cores** with the processes it measures.`,
    "",
    "| path | req/s (median) | req/s (min – max) | p50 ms (median) | p99 ms (median) | errors + wrong | machine busy | other processes | vs direct |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    row("direct (one server)", t.direct, t.directMachine, "1.00×"),
    row("chain (LB → proxy → server)", t.chain, t.chainMachine, `**${ratio.toFixed(2)}×**`),
    "",
    `"Machine busy" and "other processes" are medians over the windows, in % of all ${r.machine.cores} cores, from /proc/stat: ` +
      `"other processes" is CPU used by anything that is neither the measured processes nor the generator (another test run on the same machine skews every number here).`,
    "",
    `Ratio chain/direct of the medians: **${ratio.toFixed(3)}×** (target ≥ ${TARGET_RATIO.toFixed(2)}×: ${ratio >= TARGET_RATIO ? "met" : "not met"}); ` +
      `per interleaved pair: ${pairRatios.map((x) => x.toFixed(2)).join(", ")}.`,
    "",
    `**CPU per request** (utime + stime from /proc/<pid>/stat in 1/${r.ticksPerSecond} s ticks, read at the start and end of each measured window, ` +
      `summed over the ${t.repetitions} windows and divided by the requests answered in them; the generator's own from \`process.cpuUsage()\`):`,
    "",
    "| run | process | CPU µs / request | share of one core |",
    "|---|---|---:|---:|",
    ...cpuRows("chain", t.chainCpu),
    ...cpuRows("direct", t.directCpu),
    "",
    cpuSummary(t, r.machine.cores),
    "",
    `**Cost of health checking and failover** at the same load (the chain as above; fleets that differ only in their health flags, and one whose servers are SIGKILLed in turn ` +
      `while it is measured, so every request in flight on a dying server is retried on another; CPU is not comparable for that one, as the killed processes' time is lost; ` +
      `${r.healthCost[0]?.rps.length ?? 0} rounds of one run each after one discarded run each, interleaved with the order rotating; medians):`,
    "",
    "| fleet | req/s | vs default | fleet CPU µs / request | load balancer | proxies | servers | errors |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
    ...r.healthCost.map((v) => variantRow(v, r.healthCost[0])),
    "",
    `**Respawn** (SIGKILL of a running member, members killed in rotation so none reaches the crash-loop threshold; ` +
      `this fleet runs at \`--log-level ${r.respawnLogLevel}\` because the lines timed here are info lines). ` +
      `"Serving" = from the kill until a new connection to the member's own socket gets a correct sqrt answer (polled every 2 ms once the old process is gone); ` +
      `"watchdog" = its own figure, from reaping the dead child to the new one reporting ready; ` +
      `"out of rotation" = from the kill until the hop in front of it (load balancer for a proxy, proxy for a server) logs it down; ` +
      `"reconnected" = from the kill until that hop logs that it is back, i.e. regular traffic reaches it again.`,
    "",
    "| member killed | kills | out of rotation: median | max | serving again: median | max | watchdog figure: median | max | reconnected: median | max |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    respawnRow("server", r.respawn.server),
    respawnRow("reverse proxy", r.respawn.proxy),
    "",
    `**Hung member** (SIGSTOP: its connections stay open and it answers nothing, so only the active health checks see it; ` +
      `defaults: a check every ${r.health.intervalMs} ms ± 10 %, ${r.health.timeoutMs} ms timeout, out after ${r.health.fall} failed checks, back after ${r.health.rise} passed ones, ` +
      `so the bound is interval × fall + timeout = ${r.health.intervalMs * r.health.fall + r.health.timeoutMs} ms). ` +
      `"Out" = from SIGSTOP until the hop in front logs it down; "back" = from SIGCONT until it logs it back. The fleet is idle, so no request timeout takes it out earlier.`,
    "",
    "| member hung | times | out of rotation: median | max | back after SIGCONT: median | max |",
    "|---|---:|---:|---:|---:|---:|",
    hangRow("server", r.hang.server),
    hangRow("reverse proxy", r.hang.proxy),
  ];
  const warnings = [...t.warnings, ...r.respawn.warnings, ...r.hang.warnings];
  if (warnings.length > 0) lines.push("", "Warnings from this run:", "", ...warnings.map((w) => `- ${w}`));
  lines.push("", `Reproduce: \`${r.command}\` (builds the binaries, then runs \`bun scripts/bench.ts\`, every part below included).`);
  return lines.join("\n");
}

/** The chain's CPU cost against the direct path's, and the throughput ceiling that cost implies on this machine. */
function cpuSummary(t: ThroughputResult, cores: number): string {
  const us = (rows: CpuRow[], label: string) => rows.find((c) => c.label === label)?.usPerRequest ?? Number.NaN;
  const fleet = us(t.chainCpu, "whole fleet");
  const server = us(t.directCpu, "Server (standalone)");
  const chainGen = us(t.chainCpu, GENERATOR_LABEL);
  const directGen = us(t.directCpu, GENERATOR_LABEL);
  const ceiling = (perRequest: number) => int((cores * 1e6) / perRequest);
  return (
    `The fleet spends ${fleet.toFixed(1)} µs of CPU per request where the standalone server spends ${server.toFixed(1)} µs (${(fleet / server).toFixed(1)}×). ` +
    `With the generator's share, a request costs ${(fleet + chainGen).toFixed(1)} µs through the chain and ${(server + directGen).toFixed(1)} µs direct, ` +
    `so ${cores} fully used cores would cap them at about ${ceiling(fleet + chainGen)} and ${ceiling(server + directGen)} req/s: ` +
    `a CPU-cost ratio of ${((server + directGen) / (fleet + chainGen)).toFixed(2)}×, which other load on the machine disturbs less than the measured ratio.`
  );
}

function cpuRows(run: string, rows: CpuRow[]): string[] {
  return rows.map((c) => `| ${run} | ${c.label} | ${c.usPerRequest.toFixed(1)} | ${(c.coreShare * 100).toFixed(0)} % |`);
}

function respawnRow(label: string, samples: RespawnSample[]): string {
  const serving = samples.flatMap((x) => (x.servingMs === undefined ? [] : [x.servingMs]));
  const wd = samples.flatMap((x) => (x.watchdogMs === undefined ? [] : [x.watchdogMs]));
  const front = samples.flatMap((x) => (x.reconnectedMs === undefined ? [] : [x.reconnectedMs]));
  const out = samples.flatMap((x) => (x.outMs === undefined ? [] : [x.outMs]));
  const never = samples.length - serving.length;
  return `| ${label} | ${samples.length}${never > 0 ? ` (${never} never served)` : ""} | ${ms(median(out))} ms | ${ms(max(out))} ms | ${ms(median(serving))} ms | ${ms(max(serving))} ms | ${ms(median(wd))} ms | ${ms(max(wd))} ms | ${ms(median(front))} ms | ${ms(max(front))} ms |`;
}

function variantRow(v: VariantResult, base: VariantResult | undefined): string {
  const ratio = base === undefined ? Number.NaN : median(v.rps) / median(base.rps);
  const killing = v.variant.killServerEveryMs !== undefined;
  const cpu = killing ? "– | – | – | –" : `${median(v.us).toFixed(2)} | ${(["load_balancer", "reverse_proxy", "server"] as const).map((role) => median(v.byRole[role]).toFixed(2)).join(" | ")}`;
  return `| ${v.variant.label} | ${int(median(v.rps))} | ${ratio.toFixed(2)}× | ${cpu} | ${v.errors} |`;
}

function hangRow(label: string, samples: HangSample[]): string {
  const out = samples.flatMap((x) => (x.outMs === undefined ? [] : [x.outMs]));
  const back = samples.flatMap((x) => (x.backMs === undefined ? [] : [x.backMs]));
  return `| ${label} | ${samples.length} | ${ms(median(out))} ms | ${ms(max(out))} ms | ${ms(median(back))} ms | ${ms(max(back))} ms |`;
}

/** Replaces what is between the bench markers in `path` (creating the file if needed), keeping everything else. */
export function writeIntoReport(path: string, section: string): void {
  writeSection(path, START_MARKER, END_MARKER, section);
}
