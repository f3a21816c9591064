// Scenario 1 and 2: the same load sent straight to one server and through the whole chain,
// interleaved (direct, chain, direct, chain, …), with the CPU time of every fleet process
// sampled during each chain run.
import type { BenchFleet, Member, Standalone } from "./fleet.ts";
import type { LoadConfig, LoadResult } from "./loadgen.ts";
import { runLoad } from "./run-load.ts";

export interface LoadShape {
  connections: number;
  depth: number;
  warmupMs: number;
  durationMs: number;
  timeoutMs: number;
}

export const GENERATOR_LABEL = "load generator (not part of the fleet)";

export interface CpuRow {
  label: string;
  /** CPU µs (user + system) per answered request, over all repetitions together. */
  usPerRequest: number;
  /** Average share of one core during the measured windows. */
  coreShare: number;
}

/** How busy the whole machine was during one window, and how much of that was not ours. */
export interface MachineShare {
  /** Busy ticks / all ticks of all cores. */
  busy: number;
  /** Busy ticks not used by the measured processes or the generator, / all ticks. */
  others: number;
  /** Stolen by the hypervisor, / all ticks. */
  steal: number;
}

export interface ThroughputResult {
  shape: LoadShape;
  repetitions: number;
  direct: LoadResult[];
  chain: LoadResult[];
  /** Per fleet process during the chain runs, plus the load generator; then the direct server and its generator. */
  chainCpu: CpuRow[];
  directCpu: CpuRow[];
  directMachine: MachineShare[];
  chainMachine: MachineShare[];
  /** Anything that makes the numbers doubtful (a member restarted during a run, …). */
  warnings: string[];
}

export async function compareChainDirect(
  fleet: BenchFleet,
  direct: Standalone,
  shape: LoadShape,
  repetitions: number,
  ticksPerSecond: number,
  progress: (line: string) => void,
): Promise<ThroughputResult> {
  const result: ThroughputResult = { shape, repetitions, direct: [], chain: [], chainCpu: [], directCpu: [], directMachine: [], chainMachine: [], warnings: [] };
  const chainTicks = new Map<string, number>();
  const directTicks = new Map<string, number>();
  let chainGenUs = 0;
  let directGenUs = 0;

  // One discarded run of each first: ten fresh processes need longer than one run's warm-up for
  // their JIT to settle, and the first chain run used to be the slowest of every bench.
  progress("warming up both (one discarded run each)");
  await runLoad({ ...shape, address: direct.address, cpuPids: [] });
  await runLoad({ ...shape, address: fleet.address, cpuPids: [] });

  for (let rep = 1; rep <= repetitions; rep++) {
    const d = await runLoad({ ...shape, address: direct.address, cpuPids: [direct.pid] } satisfies LoadConfig);
    result.direct.push(d);
    addTicks(directTicks, "Server (standalone)", d.cpuTicks[direct.pid] ?? 0);
    directGenUs += d.generatorCpuUs;
    result.directMachine.push(machineShare(d, ticksPerSecond));
    progress(describe(`direct ${rep}/${repetitions}`, d));

    const members = fleet.members();
    const c = await runLoad({ ...shape, address: fleet.address, cpuPids: members.map((m) => m.pid) } satisfies LoadConfig);
    result.chain.push(c);
    const after = fleet.members();
    const changed = members.filter((m) => !after.some((a) => a.pid === m.pid));
    if (changed.length > 0 || after.length !== members.length) {
      result.warnings.push(`chain run ${rep}: fleet processes changed during the run (${changed.map((m) => m.label).join(", ") || "a new member appeared"})`);
    }
    for (const member of members) addTicks(chainTicks, member.label, c.cpuTicks[member.pid] ?? 0, member);
    chainGenUs += c.generatorCpuUs;
    result.chainMachine.push(machineShare(c, ticksPerSecond));
    progress(describe(`chain  ${rep}/${repetitions}`, c));
  }

  for (const [shares, label] of [[result.directMachine, "direct"], [result.chainMachine, "chain"]] as const) {
    shares.forEach((share, i) => {
      if (share.others > 0.1) result.warnings.push(`${label} run ${i + 1}: other processes used ${(share.others * 100).toFixed(0)} % of the machine during the window`);
      if (share.steal > 0.05) result.warnings.push(`${label} run ${i + 1}: the hypervisor stole ${(share.steal * 100).toFixed(0)} % of the machine's CPU time during the window`);
    });
  }
  for (const [runs, label] of [[result.direct, "direct"], [result.chain, "chain"]] as const) {
    const errors = runs.reduce((n, r) => n + r.errors, 0);
    const wrong = runs.reduce((n, r) => n + r.wrong, 0);
    if (errors > 0) result.warnings.push(`${label}: ${errors} requests failed during the measured windows`);
    if (wrong > 0) result.warnings.push(`${label}: ${wrong} wrong answers (first: ${runs.find((r) => r.firstWrong)?.firstWrong})`);
  }

  const rows = (ticks: Map<string, number>, runs: LoadResult[], generatorUs: number): CpuRow[] => {
    const requests = runs.reduce((n, r) => n + r.requests, 0);
    const seconds = runs.reduce((n, r) => n + r.seconds, 0);
    const out = [...ticks].map(([label, t]) => ({ label, usPerRequest: ((t / ticksPerSecond) * 1e6) / requests, coreShare: t / ticksPerSecond / seconds }));
    if (out.length > 1) out.push({ label: "whole fleet", usPerRequest: sum(out.map((r) => r.usPerRequest)), coreShare: sum(out.map((r) => r.coreShare)) });
    out.push({ label: GENERATOR_LABEL, usPerRequest: generatorUs / requests, coreShare: generatorUs / 1e6 / seconds });
    return out;
  };
  result.chainCpu = rows(chainTicks, result.chain, chainGenUs);
  result.directCpu = rows(directTicks, result.direct, directGenUs);
  for (const [rowsOf, label] of [[result.directCpu, "direct"], [result.chainCpu, "chain"]] as const) {
    const generator = rowsOf.find((r) => r.label === GENERATOR_LABEL);
    if (generator && generator.coreShare > 0.85) {
      result.warnings.push(`${label}: the load generator used ${(generator.coreShare * 100).toFixed(0)} % of one core; it is single-threaded, so this throughput is probably limited by the generator, not by what it measures`);
    }
  }
  return result;
}

function machineShare(r: LoadResult, ticksPerSecond: number): MachineShare {
  const ours = sum(Object.values(r.cpuTicks)) + (r.generatorCpuUs / 1e6) * ticksPerSecond;
  const total = r.machine.total || 1;
  return { busy: r.machine.busy / total, others: Math.max(0, r.machine.busy - ours) / total, steal: r.machine.steal / total };
}

const ORDER: Record<Member["kind"], number> = { load_balancer: 0, reverse_proxy: 1, server: 2, watchdog: 3 };
const memberOrder = new Map<string, number>();

function addTicks(into: Map<string, number>, label: string, ticks: number, member?: Member): void {
  if (member && !memberOrder.has(label)) memberOrder.set(label, ORDER[member.kind] * 1000 + member.id);
  into.set(label, (into.get(label) ?? 0) + ticks);
  // Keep the table in fleet order: load balancer, proxies, servers, watchdog.
  const sorted = [...into].sort((a, b) => (memberOrder.get(a[0]) ?? 0) - (memberOrder.get(b[0]) ?? 0));
  into.clear();
  for (const [k, v] of sorted) into.set(k, v);
}

function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function describe(label: string, r: LoadResult): string {
  const l = r.latencyMs;
  const problems = r.errors + r.wrong > 0 ? `, ${r.errors} errors, ${r.wrong} wrong` : "";
  return `${label}: ${Math.round(r.rps).toLocaleString("en-US")} req/s, p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms (${r.requests.toLocaleString("en-US")} requests in ${r.seconds.toFixed(2)} s${problems})`;
}
