// Every benchmark of `make bench` on one table: the median of each, the baseline it is compared
// with (measured in the same run, interleaved with it), the ratio, and the CPU µs per request of
// each proxying process. The sections below it in report.md hold the details.
import type { FeaturesResult } from "./features.ts";
import type { HangResult } from "./hang.ts";
import type { HttpBenchResult, HttpRow } from "./http.ts";
import type { Machine } from "./machine.ts";
import type { RespawnResult, RespawnSample } from "./respawn.ts";
import type { RoomsBenchResult } from "./rooms.ts";
import { max, median } from "./stats.ts";
import type { ThroughputResult } from "./throughput.ts";
import type { VariantResult } from "./variants.ts";

export const SUMMARY_START_MARKER = "<!-- bench-summary:start -->";
export const SUMMARY_END_MARKER = "<!-- bench-summary:end -->";

export interface BenchResults {
  readonly machine: Machine;
  readonly elapsedS: number;
  readonly throughput: ThroughputResult;
  readonly healthCost: VariantResult[];
  readonly respawn: RespawnResult;
  readonly hang: HangResult;
  readonly http: HttpBenchResult;
  readonly features: FeaturesResult;
  readonly rooms: RoomsBenchResult;
}

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const rps = (n: number) => `${int(n)} req/s`;
const ratio = (a: number, b: number) => (Number.isFinite(a / b) ? `**${(a / b).toFixed(2)}×**` : "–");
const ms = (values: readonly number[]) => (values.length === 0 ? "–" : `${int(median(values))} ms (worst ${int(max(values))})`);
const us = (n: number | undefined) => (n !== undefined && Number.isFinite(n) ? n.toFixed(1) : "–");

type Row = [benchmark: string, result: string, baseline: string, ratio: string, cpu: string];

function wireRows(r: BenchResults): Row[] {
  const t = r.throughput;
  const chain = median(t.chain.map((x) => x.rps));
  const direct = median(t.direct.map((x) => x.rps));
  const cpu = (label: string) => t.chainCpu.find((c) => c.label === label)?.usPerRequest;
  const proxies = t.chainCpu.filter((c) => c.label.startsWith("Reverse Proxy")).map((c) => `${c.label} ${us(c.usPerRequest)}`);
  const byLabel = (label: string) => r.healthCost.find((v) => v.variant.label.startsWith(label));
  const base = r.healthCost[0];
  const baseRps = base === undefined ? Number.NaN : median(base.rps);
  const variant = (name: string, label: string): Row[] => {
    const v = byLabel(label);
    return v === undefined ? [] : [[name, rps(median(v.rps)), `${rps(baseRps)} (checks every 1 s)`, ratio(median(v.rps), baseRps), v.variant.killServerEveryMs === undefined ? `fleet ${us(median(v.us))}` : `${v.errors} errors`]];
  };
  return [
    ["wire: sqrt through LB → proxy → server (64 × 16 in flight)", rps(chain), `${rps(direct)} (one server, direct)`, ratio(chain, direct), `Load Balancer ${us(cpu("Load Balancer"))}, ${proxies.join(", ")}; fleet ${us(cpu("whole fleet"))}`],
    ...variant("wire: the chain with health checks off", "checks off"),
    ...variant("wire: the chain while a server is SIGKILLed every 500 ms", "default, a server SIGKILLed"),
  ];
}

function httpRows(r: BenchResults): Row[] {
  if (r.http.status === "skipped") return [["HTTP: front door against HAProxy", `skipped: ${r.http.reason}`, "–", "–", "–"]];
  const rows = r.http.rows;
  const base = rows.find((x) => x.kind === "baseline");
  const rpsOf = (x: HttpRow) => median(x.runs.map((run) => run.rps));
  const baseRps = base === undefined ? Number.NaN : rpsOf(base);
  const each = (x: HttpRow) => x.proxyUsEach.map((p) => `${p.name} ${us(p.us)}`).join(", ") || "–";
  const baseline = base === undefined ? "HAProxy did not start" : `${rps(baseRps)} (HAProxy, ${each(base)})`;
  return rows.filter((x) => x.kind === "front door").map((x): Row => [`HTTP: ${x.label}, wrk -c64`, rps(rpsOf(x)), baseline, ratio(rpsOf(x), baseRps), each(x)]);
}

function featureRows(r: BenchResults): Row[] {
  if (r.features.status === "skipped") return [["HTTP features: cache, gzip, TLS", `skipped: ${r.features.reason}`, "–", "–", "–"]];
  const rows = r.features.rows;
  const rpsOf = (label: string | undefined) => median(rows.find((x) => x.label === label)?.runs.map((run) => run.rps) ?? []);
  return rows
    .filter((x) => x.against !== undefined)
    .map((x): Row => [`HTTP: ${x.label}`, rps(rpsOf(x.label)), `${rps(rpsOf(x.against))} (${x.against})`, ratio(rpsOf(x.label), rpsOf(x.against)), `Load Balancer ${us(x.lbUs)} (miss path ${us(rows.find((y) => y.label === x.against)?.lbUs)})`]);
}

function recoveryRows(r: BenchResults): Row[] {
  const serving = (samples: RespawnSample[]) => samples.flatMap((x) => (x.servingMs === undefined ? [] : [x.servingMs]));
  const out = (samples: Array<{ outMs: number | undefined }>) => samples.flatMap((x) => (x.outMs === undefined ? [] : [x.outMs]));
  const rows: Row[] = [
    ["respawn: a SIGKILLed server serves again", ms(serving(r.respawn.server)), "–", "–", "–"],
    ["respawn: a SIGKILLed reverse proxy serves again", ms(serving(r.respawn.proxy)), "–", "–", "–"],
    ["health checks: a hung (SIGSTOPped) server is out of rotation", ms(out(r.hang.server)), "–", "–", "–"],
    ["health checks: a hung reverse proxy is out of rotation", ms(out(r.hang.proxy)), "–", "–", "–"],
  ];
  if (r.rooms.status === "skipped") return [...rows, ["rooms: failover and client cache", `skipped: ${r.rooms.reason}`, "–", "–", "–"]];
  const { failoverMs, hangMs, session } = r.rooms;
  return [
    ...rows,
    ["rooms: leader SIGKILLed → next reservation confirmed", ms(failoverMs), "–", "–", "–"],
    ["rooms: leader SIGSTOPped → next reservation confirmed", ms(hangMs), "–", "–", "–"],
    ["rooms: the seed's client session × 3, answers from the client cache", `${session.fromCache} of ${session.fromCache + session.fromServers}`, "–", `hit ratio ${(session.fromCache / (session.fromCache + session.fromServers)).toFixed(2)}`, "–"],
  ];
}

export function renderSummary(r: BenchResults): string {
  const m = r.machine;
  const rows = [...wireRows(r), ...httpRows(r), ...featureRows(r), ...recoveryRows(r)];
  return [
    `Measured by \`make bench\` on ${m.date.slice(0, 16).replace("T", " ")} UTC; the whole run took ${Math.round(r.elapsedS)} s. Machine: ${m.cpu}, ${m.cores} cores, ${m.kernel}, Bun ${m.bun}; 1-minute load average ${m.loadBefore.toFixed(2)} before the run. Every process measured shares the ${m.cores} cores with the load generator.`,
    "",
    "Each throughput is the median of interleaved repetitions (the benchmark and its baseline take turns, after one discarded run of each); times are medians over repeated kills or hangs. CPU is utime + stime from /proc/<pid>/stat over the counted runs, per request answered: the figure that survives a noisy machine best.",
    "",
    "| benchmark | result (median) | baseline, same run | ratio | CPU µs / request, per proxying process |",
    "|---|---:|---|---:|---|",
    ...rows.map((row) => `| ${row.join(" | ")} |`),
    "",
    "The sections below give each benchmark's set-up, every repetition, latency percentiles and warnings.",
  ].join("\n");
}
