// The HTTP benchmark of `make bench`: the load balancer's HTTP front door against HAProxy in front
// of the same Bun.serve backends, all driven by wrk with one shape, in interleaved rounds.
// `bun scripts/bench/http.ts [--rounds N] [--haproxy-threads N] [--bin-dir DIR] [--write]` runs it
// alone (--bin-dir: another build's binaries; --write: also into report.md between the bench-http markers). A target that does not start is reported
// with its output; missing haproxy/wrk that cannot be installed skip the benchmark.
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { cleanupAll, installCleanupHandlers, trackDir } from "./cleanup.ts";
import { clockTicksPerSecond } from "./cpu.ts";
import { freeTcpPort } from "@switchyard/testing";
import { type Backend, type Target, type TargetPids, serversSeen, startBackend, startHaproxy, startHttpFleet, renderHaproxyConfig } from "./http-targets.ts";
import { type HttpTools, ensureHttpTools } from "./http-tools.ts";
import { describeMachine } from "./machine.ts";
import { HTTP_END_MARKER, HTTP_START_MARKER, renderHttpSection } from "./http-report.ts";
import { writeSection } from "./report-file.ts";
import { type WrkRun, type WrkShape, runWrk, wrkArgs } from "./wrk.ts";

export const HTTP_SHAPE: WrkShape = { connections: 64, threads: 1, durationS: 3, warmupS: 1, timeoutS: 5 };
export const HTTP_ROUNDS = 3;
/** One thread per core: HAProxy's own default when `nbthread` is not set, i.e. what a HAProxy user runs. */
export const HAPROXY_THREADS = availableParallelism();
/** Why, for the report: measured with this harness's settings before choosing. */
const HAPROXY_THREADS_WHY =
  "one thread per core, HAProxy's own default (what a user gets without setting it); `--haproxy-threads 1` measures the single-threaded one " +
  "(docs/performance-history.md has that comparison from development: one thread was the slower baseline at the same CPU per request).";
const BACKENDS = 3;

export type TargetKind = "baseline" | "front door" | "reference";

export interface HttpRow {
  label: string;
  kind: TargetKind;
  command: string;
  /** wrk threads used for this target (the shape's, except the 3-backend reference). */
  threads: number;
  runs: WrkRun[];
  /** CPU µs per request over all counted runs: the proxying processes, what answers behind them, wrk. */
  proxyUs: number;
  /** The same for each proxying process on its own (HAProxy; the load balancer and each reverse proxy). */
  proxyUsEach: Array<{ name: string; us: number }>;
  backendUs: number;
  wrkUs: number;
  /** wrk's share of one core during the counted runs. */
  wrkCoreShare: number;
  /** Server numbers that answered 12 sequential GET /home before the runs. */
  servers: number[];
}

export interface HttpFailure {
  label: string;
  command: string;
  error: string;
}

export type HttpBenchResult =
  | { status: "skipped"; reason: string }
  | {
      status: "measured";
      tools: HttpTools;
      shape: WrkShape;
      rounds: number;
      haproxyThreads: number;
      haproxyThreadsWhy: string;
      haproxyConfig: string;
      /** Every target, in the order they ran (rows and failures together). */
      order: Array<{ label: string; command: string }>;
      rows: HttpRow[];
      failures: HttpFailure[];
      warnings: string[];
      elapsedS: number;
    };

export interface HttpBenchOptions {
  /** A private temp dir (fleets' run dirs, HAProxy's config, wrk's script go under it). */
  tmp: string;
  shape?: WrkShape;
  rounds?: number;
  haproxyThreads?: number;
  ticksPerSecond?: number;
  progress?: (line: string) => void;
  /** Where the compiled binaries are (default: the repository root). */
  binDir?: string;
}

interface StartedTarget {
  label: string;
  kind: TargetKind;
  command: string;
  target: Target;
  threads: number;
  script?: string;
  /** The Bun.serve backends behind it (their pids are not the target's own). */
  usesBackends: readonly Backend[];
}

interface TargetSpec {
  label: string;
  kind: TargetKind;
  command: string;
  start(): Promise<Omit<StartedTarget, "label" | "kind" | "command">>;
}

export async function measureHttp(options: HttpBenchOptions): Promise<HttpBenchResult> {
  const shape = options.shape ?? HTTP_SHAPE;
  const rounds = options.rounds ?? HTTP_ROUNDS;
  const haproxyThreads = options.haproxyThreads ?? HAPROXY_THREADS;
  const tps = options.ticksPerSecond ?? clockTicksPerSecond();
  const say = options.progress ?? ((line: string) => console.log(`http: ${line}`));
  const started = performance.now();

  const outcome = await ensureHttpTools(say);
  if (!outcome.ok) {
    console.log(`skipping the HTTP benchmark: ${outcome.reason}`);
    return { status: "skipped", reason: outcome.reason };
  }
  const { tools } = outcome;
  say(`${tools.haproxyVersion} (${tools.haproxy}), ${tools.wrkVersion} (${tools.wrk})${outcome.installed.length > 0 ? `; installed ${outcome.installed.join(", ")}` : ""}`);

  const dir = join(options.tmp, "http");
  mkdirSync(dir, { recursive: true });
  const backends: Backend[] = [];
  const live: StartedTarget[] = [];
  const failures: HttpFailure[] = [];
  const warnings: string[] = [];
  let haproxyConfig = "";
  try {
    for (let id = 1; id <= BACKENDS; id++) backends.push(await startBackend(id));
    say(`Bun.serve backends on ${backends.map((b) => `127.0.0.1:${b.port} (pid ${b.pid})`).join(", ")}`);
    const upstreams = backends.map((b) => `http://127.0.0.1:${b.port}`);
    const backendUrl = (b: Backend) => `http://127.0.0.1:${b.port}/home`;
    const direct = (pids: () => TargetPids, url: string, command: string): Target => ({ url, command, pids, warnings: [], stop: async () => {} });
    const fleet = (proxies: number, servers: number, ups: readonly string[], name: string) => startHttpFleet({ proxies, serversPerProxy: servers, upstreams: ups }, freeTcpPort(), join(dir, name), options.binDir);
    const luaFile = join(dir, "each-thread-own-backend.lua");
    writeFileSync(luaFile, renderSpreadScript(backends.map((b) => b.port)));
    const haproxyPort = freeTcpPort();
    haproxyConfig = renderHaproxyConfig({ port: haproxyPort, backendPorts: backends.map((b) => b.port), threads: haproxyThreads });

    const specs: TargetSpec[] = [
      {
        label: "HAProxy → 3 Bun.serve",
        kind: "baseline",
        command: "haproxy -db -f haproxy.cfg (below)",
        start: async () => ({ target: await startHaproxy(tools.haproxy, dir, { port: haproxyPort, backendPorts: backends.map((b) => b.port), threads: haproxyThreads }), threads: shape.threads, usesBackends: backends }),
      },
      {
        label: "front door, flat (LB → 3 servers)",
        kind: "front door",
        command: "./watchdog --proxies 0 --servers 3 --http-port <port> --run-dir <tmp> --log-level warn",
        start: async () => ({ target: await fleet(0, 3, [], "flat"), threads: shape.threads, usesBackends: [] }),
      },
      {
        label: "front door, two-tier (LB → 2 proxies → 3 servers each)",
        kind: "front door",
        command: "./watchdog --proxies 2 --servers 3 --http-port <port> --run-dir <tmp> --log-level warn",
        start: async () => ({ target: await fleet(2, 3, [], "two-tier"), threads: shape.threads, usesBackends: [] }),
      },
      {
        label: "front door → 3 Bun.serve (external upstreams)",
        kind: "front door",
        command: "./watchdog --proxies 0 --servers 0 --upstream http://127.0.0.1:<B1> --upstream http://127.0.0.1:<B2> --upstream http://127.0.0.1:<B3> --http-port <port> --run-dir <tmp> --log-level warn",
        start: async () => ({ target: await fleet(0, 0, upstreams, "upstreams"), threads: shape.threads, usesBackends: backends }),
      },
      {
        label: "wrk → one Bun.serve (no proxy)",
        kind: "reference",
        command: "wrk straight at backend 1, http://127.0.0.1:<B1>/home",
        start: async () => ({ target: direct(() => ({ proxy: [], names: {}, backend: [backends[0]!.pid], other: [] }), backendUrl(backends[0]!), "wrk straight at backend 1"), threads: shape.threads, usesBackends: [] }),
      },
      {
        label: `wrk → 3 Bun.serve (no proxy, ${BACKENDS} wrk threads)`,
        kind: "reference",
        command: `wrk -t${BACKENDS} -s each-thread-own-backend.lua (thread i connects to backend i)`,
        start: async () => ({
          target: direct(() => ({ proxy: [], names: {}, backend: backends.map((b) => b.pid), other: [] }), backendUrl(backends[0]!), `wrk -t${BACKENDS} -s each-thread-own-backend.lua`),
          threads: BACKENDS,
          script: luaFile,
          usesBackends: [],
        }),
      },
    ];

    for (const spec of specs) {
      try {
        const t = await spec.start();
        live.push({ label: spec.label, kind: spec.kind, command: spec.command, ...t });
        for (const w of t.target.warnings) warnings.push(`${spec.label}: ${w}`);
        say(`${spec.label}: started (${t.target.command})`);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        failures.push({ label: spec.label, command: spec.command, error: message });
        say(`${spec.label}: failed to start: ${message.split("\n").slice(0, 4).join(" | ")}`);
      }
    }
    if (!live.some((t) => t.kind === "baseline")) warnings.push("HAProxy did not start: no baseline to compare with");

    const servers = new Map<StartedTarget, number[]>();
    for (const t of live) servers.set(t, await serversSeen(t.target.url, 12));

    const pidsOf = (t: StartedTarget) => {
      const own = t.target.pids();
      return { ...own, backend: [...own.backend, ...t.usesBackends.map((b) => b.pid)] };
    };
    const cmdOf = (t: StartedTarget, durationS: number) => wrkArgs(tools.wrk, t.target.url, { ...shape, threads: t.threads }, durationS, t.script);

    // One discarded run of each first: fresh processes (and HAProxy's idle-connection pool) settle.
    say(`warming up (one discarded ${shape.durationS} s run of each of ${live.length} targets)`);
    for (const t of live) await runWrk(cmdOf(t, shape.durationS), shape.durationS, []);

    const runs = new Map<StartedTarget, WrkRun[]>(live.map((t) => [t, []]));
    const ticks = new Map<StartedTarget, { proxy: number; backend: number; each: Map<string, number> }>(live.map((t) => [t, { proxy: 0, backend: 0, each: new Map() }]));
    for (let round = 1; round <= rounds; round++) {
      for (const t of live) {
        await runWrk(cmdOf(t, shape.warmupS), shape.warmupS, []);
        const pids = pidsOf(t);
        const r = await runWrk(cmdOf(t, shape.durationS), shape.durationS, [...pids.proxy, ...pids.backend, ...pids.other]);
        const after = pidsOf(t);
        const all = (p: TargetPids) => [...p.proxy, ...p.backend].sort((a, b) => a - b).join(",");
        if (all(after) !== all(pids)) warnings.push(`${t.label}, round ${round}: its processes changed during the run (a member died or was respawned)`);
        const sumOf = (list: number[]) => list.reduce((n, pid) => n + (r.cpuTicks[pid] ?? 0), 0);
        const acc = ticks.get(t)!;
        acc.proxy += sumOf(pids.proxy);
        acc.backend += sumOf(pids.backend);
        for (const pid of pids.proxy) {
          const name = pids.names[pid] ?? `pid ${pid}`;
          acc.each.set(name, (acc.each.get(name) ?? 0) + (r.cpuTicks[pid] ?? 0));
        }
        runs.get(t)!.push(r);
        const ours = sumOf([...pids.proxy, ...pids.backend, ...pids.other]) + (r.wrkCpuUs / 1e6) * tps;
        const others = Math.max(0, r.machine.busy - ours) / (r.machine.total || 1);
        if (others > 0.1) warnings.push(`${t.label}, round ${round}: other processes used ${(others * 100).toFixed(0)} % of the machine during the run`);
        if (r.machine.steal / (r.machine.total || 1) > 0.05) warnings.push(`${t.label}, round ${round}: the hypervisor stole ${((r.machine.steal / r.machine.total) * 100).toFixed(0)} % of the machine's CPU time`);
        const errors = r.non2xx + r.socketErrors;
        say(`${t.label} ${round}/${rounds}: ${Math.round(r.rps).toLocaleString("en-US")} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms${errors > 0 ? `, ${errors} errors` : ""}`);
      }
    }

    const rows: HttpRow[] = live.map((t) => {
      const list = runs.get(t)!;
      const requests = list.reduce((n, r) => n + r.requests, 0);
      const seconds = list.reduce((n, r) => n + r.seconds, 0);
      const wrkUs = list.reduce((n, r) => n + r.wrkCpuUs, 0);
      const us = (tk: number) => ((tk / tps) * 1e6) / requests;
      const acc = ticks.get(t)!;
      return {
        label: t.label,
        kind: t.kind,
        command: t.command,
        threads: t.threads,
        runs: list,
        proxyUs: us(acc.proxy),
        proxyUsEach: [...acc.each].sort(([a], [b]) => a.localeCompare(b)).map(([name, tk]) => ({ name, us: us(tk) })),
        backendUs: us(acc.backend),
        wrkUs: wrkUs / requests,
        wrkCoreShare: wrkUs / 1e6 / seconds / t.threads,
        servers: servers.get(t) ?? [],
      };
    });
    for (const row of rows) {
      const errors = row.runs.reduce((n, r) => n + r.non2xx + r.socketErrors, 0);
      if (errors > 0) warnings.push(`${row.label}: ${errors} failed requests (non-2xx answers or socket errors) in the counted runs`);
      if (row.wrkCoreShare > 0.85) warnings.push(`${row.label}: wrk used ${(row.wrkCoreShare * 100).toFixed(0)} % of a core per thread (${row.threads} thread${row.threads > 1 ? "s" : ""}), so this throughput may be limited by wrk, not by what it measures`);
    }
    const haproxyThreadsWhy = haproxyThreads === HAPROXY_THREADS ? HAPROXY_THREADS_WHY : `set with --haproxy-threads (the default is ${HAPROXY_THREADS}).`;
    return { status: "measured", tools, shape, rounds, haproxyThreads, haproxyThreadsWhy, haproxyConfig, order: specs.map(({ label, command }) => ({ label, command })), rows, failures, warnings, elapsedS: (performance.now() - started) / 1000 };
  } finally {
    for (const t of live.reverse()) await t.target.stop().catch(() => undefined);
    for (const b of backends) await b.stop().catch(() => undefined);
  }
}

/** wrk script: thread i sends its connections to backend i (wrk connects each thread to one address). */
function renderSpreadScript(ports: readonly number[]): string {
  return [
    `local ports = { ${ports.join(", ")} }`,
    "local next = 0",
    "function setup(thread)",
    "  next = next + 1",
    '  thread.addr = wrk.lookup("127.0.0.1", tostring(ports[(next - 1) % #ports + 1]))[1]',
    "end",
    "",
  ].join("\n");
}

const USAGE = "usage: bun scripts/bench/http.ts [--rounds N] [--haproxy-threads N] [--bin-dir DIR] [--write]";

function flag(argv: readonly string[], name: string): number | undefined {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const value = Number(argv[i + 1]);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${USAGE}; ${name} needs a whole number ≥ 1`);
    process.exit(64);
  }
  return value;
}

if (import.meta.main) {
  const argv = process.argv.slice(2);
  const rounds = flag(argv, "--rounds") ?? HTTP_ROUNDS;
  const haproxyThreads = flag(argv, "--haproxy-threads") ?? HAPROXY_THREADS;
  const binAt = argv.indexOf("--bin-dir");
  const binDir = binAt < 0 ? undefined : argv[binAt + 1];
  const known = new Set(["--rounds", "--haproxy-threads", "--bin-dir", "--write"]);
  const unknown = argv.filter((a) => a.startsWith("-") && !known.has(a));
  if ((binAt >= 0 && binDir === undefined) || unknown.length > 0) {
    console.error(unknown.length > 0 ? `${USAGE}; unknown ${unknown.join(" ")}` : `${USAGE}; --bin-dir needs a directory`);
    process.exit(64);
  }
  installCleanupHandlers(600_000);
  const tmp = mkdtempSync(join(tmpdir(), "sy-http-"));
  trackDir(tmp);
  let code = 0;
  try {
    const machine = describeMachine();
    const result = await measureHttp({ tmp, rounds, haproxyThreads, binDir });
    const markdown = renderHttpSection(result, machine, "bun scripts/bench/http.ts");
    console.log(`\n${markdown}\n`);
    if (argv.includes("--write")) {
      const report = resolve(import.meta.dir, "../../report.md");
      writeSection(report, HTTP_START_MARKER, HTTP_END_MARKER, markdown);
      console.log(`http: written into ${report} between the bench-http markers`);
    }
  } catch (error) {
    console.error(`http bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    code = 1;
  } finally {
    cleanupAll();
  }
  process.exit(code);
}
