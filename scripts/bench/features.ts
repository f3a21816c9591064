// What the front door's features cost, in one run: the HTTP cache's hit path against its miss path,
// gzip against sending as is, and HTTPS against HTTP, all through the flat load balancer in front of
// one Bun.serve backend, with wrk, in interleaved rounds. Part of `make bench`;
// `bun scripts/bench/features.ts [--rounds N] [--write]` runs it alone (--write: into report.md
// between the bench-features markers). Skipped with a message when wrk or openssl is missing.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spawned, binary, freeTcpPort } from "@switchyard/testing";
import { cleanupAll, installCleanupHandlers, trackDir, trackFinder, trackPid } from "./cleanup.ts";
import { clockTicksPerSecond } from "./cpu.ts";
import { destroyFleet } from "./fleet.ts";
import { ensureHttpTools } from "./http-tools.ts";
import { type Machine, describeMachine } from "./machine.ts";
import { processesIn } from "./members.ts";
import { writeSection } from "./report-file.ts";
import { median } from "./stats.ts";
import { type WrkRun, type WrkShape, runWrk, wrkArgs } from "./wrk.ts";

export const FEATURES_START_MARKER = "<!-- bench-features:start -->";
export const FEATURES_END_MARKER = "<!-- bench-features:end -->";
const SHAPE: WrkShape = { connections: 64, threads: 1, durationS: 3, warmupS: 1, timeoutS: 5 };
const ROUNDS = 3;

interface Variant {
  label: string;
  /** What it is compared against (the label of the baseline row), or undefined for a baseline. */
  against?: string;
  url: (fleets: Fleets) => string;
  headers?: string[];
  lb: (fleets: Fleets) => number;
}

interface Fleets {
  plain: StartedFleet;
  tls: StartedFleet;
}

interface StartedFleet {
  url: string;
  lbPid: number;
  stop(): Promise<void>;
}

export interface FeatureRow {
  label: string;
  against?: string;
  command: string;
  runs: WrkRun[];
  /** The load balancer's CPU µs per request over all counted runs. */
  lbUs: number;
}

export type FeaturesResult = { status: "measured"; rows: FeatureRow[]; rounds: number; elapsedS: number; documentBytes: number } | { status: "skipped"; reason: string };

const VARIANTS: Variant[] = [
  { label: "HTTP cache miss (GET /fresh, no-store)", url: (f) => `${f.plain.url}/fresh`, lb: (f) => f.plain.lbPid },
  { label: "HTTP cache hit (GET /cached, max-age=3600)", against: "HTTP cache miss (GET /fresh, no-store)", url: (f) => `${f.plain.url}/cached`, lb: (f) => f.plain.lbPid },
  { label: "gzip (GET /fresh, Accept-Encoding: gzip)", against: "HTTP cache miss (GET /fresh, no-store)", url: (f) => `${f.plain.url}/fresh`, headers: ["-H", "Accept-Encoding: gzip"], lb: (f) => f.plain.lbPid },
  { label: "HTTPS (GET /fresh over TLS, keep-alive)", against: "HTTP cache miss (GET /fresh, no-store)", url: (f) => `${f.tls.url}/fresh`, lb: (f) => f.tls.lbPid },
];

export async function measureFeatures(options: { tmp: string; ticksPerSecond: number; rounds?: number; progress?: (line: string) => void }): Promise<FeaturesResult> {
  const say = options.progress ?? ((line: string) => console.log(`features: ${line}`));
  const started = performance.now();
  const tools = await ensureHttpTools(say);
  if (!tools.ok) return { status: "skipped", reason: tools.reason };
  const openssl = Bun.which("openssl");
  if (openssl === null) return { status: "skipped", reason: "openssl is not on PATH (the HTTPS row needs a certificate)" };
  const rounds = options.rounds ?? ROUNDS;
  const dir = options.tmp;
  const cert = join(dir, "bench.crt");
  const key = join(dir, "bench.key");
  const made = Bun.spawnSync([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"]);
  if (made.exitCode !== 0) return { status: "skipped", reason: `openssl could not make a certificate: ${made.stderr.toString().trim()}` };

  const backend = new Spawned([process.execPath, join(import.meta.dir, "feature-backend.ts")]);
  trackPid(backend.pid);
  let fleets: Fleets | undefined;
  try {
    const line = await backend.waitForLine(/^listening on 127\.0\.0\.1:\d+/, 20_000);
    const upstream = `http://${/127\.0\.0\.1:\d+/.exec(line)![0]}`;
    const documentBytes = Number(/\((\d+) bytes/.exec(line)?.[1] ?? Number.NaN);
    const common = `[watchdog]\nproxies = 0\nservers = 0\nupstream = ["${upstream}"]\nlog-level = "warn"\n\n[load_balancer]\nhttp-cache-entries = 1000\ncompress = "gzip"\n`;
    const plain = await startFleet(join(dir, "plain"), common);
    const tls = await startFleet(join(dir, "tls"), `${common}tls-cert = "${cert}"\ntls-key = "${key}"\n`).catch(async (error) => {
      await plain.stop();
      throw error;
    });
    const both: Fleets = { plain, tls };
    fleets = both;
    say(`fleets ready: ${plain.url} and ${tls.url}, backend ${upstream}`);

    const rows: FeatureRow[] = VARIANTS.map((v) => ({ label: v.label, against: v.against, command: wrkCommand(tools.tools.wrk, v, both).join(" "), runs: [], lbUs: Number.NaN }));
    for (const v of VARIANTS) await runWrk(wrkCommand(tools.tools.wrk, v, both, SHAPE.durationS), SHAPE.durationS, []);
    for (let round = 1; round <= rounds; round++) {
      for (const [i, v] of VARIANTS.entries()) {
        await runWrk(wrkCommand(tools.tools.wrk, v, both, SHAPE.warmupS), SHAPE.warmupS, []);
        const run = await runWrk(wrkCommand(tools.tools.wrk, v, both, SHAPE.durationS), SHAPE.durationS, [v.lb(both)]);
        if (run.non2xx + run.socketErrors > 0) throw new Error(`${v.label}: ${run.non2xx} non-2xx answers and ${run.socketErrors} socket errors`);
        rows[i]!.runs.push(run);
        say(`round ${round}/${rounds}: ${v.label}: ${Math.round(run.rps)} req/s`);
      }
    }
    for (const [i, v] of VARIANTS.entries()) {
      const row = rows[i]!;
      const ticks = row.runs.reduce((sum, run) => sum + (run.cpuTicks[String(v.lb(both))] ?? 0), 0);
      const requests = row.runs.reduce((sum, run) => sum + run.requests, 0);
      row.lbUs = (ticks / options.ticksPerSecond / requests) * 1e6;
    }
    return { status: "measured", rows, rounds, elapsedS: (performance.now() - started) / 1000, documentBytes };
  } finally {
    await fleets?.plain.stop();
    await fleets?.tls.stop();
    backend.kill("SIGKILL");
  }
}

function wrkCommand(wrk: string, v: Variant, fleets: Fleets, durationS = SHAPE.durationS): string[] {
  const [command, ...rest] = wrkArgs(wrk, v.url(fleets), SHAPE, durationS);
  // Headers go before the URL (the last argument).
  return [command!, ...rest.slice(0, -1), ...(v.headers ?? []), rest.at(-1)!];
}

/** `./watchdog --config <dir>/switchyard.toml --http-port <free> --run-dir <dir>/run`, ready when the front door answers /heartbeat. */
async function startFleet(dir: string, config: string): Promise<StartedFleet> {
  Bun.spawnSync(["mkdir", "-p", dir]);
  const file = join(dir, "switchyard.toml");
  writeFileSync(file, config);
  const runDir = join(dir, "run");
  const port = freeTcpPort();
  const watchdog = new Spawned([binary("watchdog"), "--config", file, "--http-port", String(port), "--run-dir", runDir]);
  trackPid(watchdog.pid);
  const forget = trackFinder(() => processesIn(runDir).map((m) => m.pid));
  const stop = () => destroyFleet(watchdog, runDir, forget);
  // The fleet logs at warn (per-request lines would cost), so readiness is the front door answering through it.
  const url = `${config.includes("tls-cert") ? "https" : "http"}://127.0.0.1:${port}`;
  const deadline = performance.now() + 20_000;
  while (performance.now() < deadline && watchdog.proc.exitCode === null) {
    const status = await fetch(`${url}/fresh`, { tls: { rejectUnauthorized: false }, signal: AbortSignal.timeout(1000) }).then(
      (response) => response.status,
      () => 0,
    );
    const lb = processesIn(runDir).find((m) => m.kind === "load_balancer");
    if (status === 200 && lb !== undefined) return { url, lbPid: lb.pid, stop };
    await Bun.sleep(50);
  }
  const output = watchdog.output;
  await stop();
  throw new Error(`the fleet did not answer ${url}/fresh within 20 s:\n${output}`);
}

export function renderFeaturesSection(result: FeaturesResult, machine: Machine, command: string): string {
  const heading = "### What the front door's features cost";
  const when = `${machine.date.slice(0, 16).replace("T", " ")} UTC`;
  if (result.status === "skipped") return `${heading}\n\nSkipped by \`${command}\` on ${when}: ${result.reason}.`;
  const rpsOf = (row: FeatureRow) => median(row.runs.map((r) => r.rps));
  const byLabel = new Map(result.rows.map((row) => [row.label, row]));
  const lines = [
    heading,
    "",
    `Measured by \`${command}\` on ${when}; this part took ${result.elapsedS.toFixed(0)} s. ${machine.cpu}, ${machine.cores} cores, Bun ${machine.bun}.`,
    "",
    `One flat fleet (\`proxies = 0\`, \`servers = 0\`) in front of one Bun.serve backend (scripts/bench/feature-backend.ts) answering a ${result.documentBytes}-byte JSON document, with \`http-cache-entries = 1000\` and \`compress = "gzip"\` in its \`[load_balancer]\` table, and a second one that also has \`tls-cert\` and \`tls-key\` (an RSA 2048 certificate made by openssl). wrk \`-t${SHAPE.threads} -c${SHAPE.connections} -d${SHAPE.durationS}s\` (keep-alive; each counted run right after an uncounted ${SHAPE.warmupS} s one), ${result.rounds} interleaved rounds after one discarded run of each; everything shares the machine's ${machine.cores} cores. "vs" is the ratio of the medians to the row named; LB CPU is the load balancer's utime + stime per request over the counted runs.`,
    "",
    "| path | req/s (median) | p50 ms | p99 ms | vs | LB CPU µs / request |",
    "|---|---:|---:|---:|---|---:|",
    ...result.rows.map((row) => {
      const base = row.against === undefined ? undefined : byLabel.get(row.against);
      const vs = base === undefined ? "–" : `**${(rpsOf(row) / rpsOf(base)).toFixed(2)}×** the miss path`;
      return `| ${row.label} | ${Math.round(rpsOf(row)).toLocaleString("en-US")} | ${median(row.runs.map((r) => r.p50Ms)).toFixed(2)} | ${median(row.runs.map((r) => r.p99Ms)).toFixed(2)} | ${vs} | ${row.lbUs.toFixed(1)} |`;
    }),
    "",
    "Per round, req/s: " + result.rows.map((row) => `${row.label}: ${row.runs.map((r) => Math.round(r.rps).toLocaleString("en-US")).join(", ")}`).join("; ") + ".",
    "",
    "Reproduce: `bun scripts/bench/features.ts` (this part alone; `--write` puts it here) or `make bench`.",
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const roundsAt = args.indexOf("--rounds");
  const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : ROUNDS;
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error("usage: bun scripts/bench/features.ts [--rounds N ≥ 1] [--write]");
    process.exit(64);
  }
  installCleanupHandlers(300_000);
  const tmp = mkdtempSync(join(tmpdir(), "switchyard-features-"));
  trackDir(tmp);
  let code = 0;
  try {
    const result = await measureFeatures({ tmp, ticksPerSecond: clockTicksPerSecond(), rounds });
    const markdown = renderFeaturesSection(result, describeMachine(), "bun scripts/bench/features.ts");
    console.log(`\n${markdown}\n`);
    if (args.includes("--write")) writeSection(join(import.meta.dir, "..", "..", "report.md"), FEATURES_START_MARKER, FEATURES_END_MARKER, markdown);
  } catch (error) {
    console.error(`features benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    code = 1;
  } finally {
    cleanupAll();
  }
  process.exit(code);
}
