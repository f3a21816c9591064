// `make bench`: every benchmark, summed up on one table (scripts/bench/summary.ts, between the bench-summary markers); chain vs direct throughput (interleaved), CPU per request of every fleet process,
// respawn times, how fast a dead or hung member leaves rotation, written into report.md between the bench markers; then the
// HTTP front door against HAProxy (scripts/bench/http.ts), between the bench-http markers; then what the front door's
// features cost (cache hit vs miss, gzip, HTTPS: scripts/bench/features.ts), between the bench-features markers; then the rooms
// group's failover time and the rooms client's cache hit ratio (scripts/bench/rooms.ts). It reports; it asserts nothing.
// Every process it starts is killed by pid at the end, on failure, on Ctrl-C and after a time limit.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DEFAULT_HEALTH } from "@switchyard/upstream";
import { cleanupAll, installCleanupHandlers, trackDir } from "./bench/cleanup.ts";
import { clockTicksPerSecond } from "./bench/cpu.ts";
import { type BenchFleet, type Standalone, startFleet, startStandaloneServer } from "./bench/fleet.ts";
import { describeMachine } from "./bench/machine.ts";
import { renderReport, writeIntoReport } from "./bench/report.ts";
import { measureHangs } from "./bench/hang.ts";
import { FEATURES_END_MARKER, FEATURES_START_MARKER, type FeaturesResult, measureFeatures, renderFeaturesSection } from "./bench/features.ts";
import { type HttpBenchResult, measureHttp } from "./bench/http.ts";
import { ROOMS_END_MARKER, ROOMS_START_MARKER, type RoomsBenchResult, measureRooms, renderRoomsSection } from "./bench/rooms.ts";
import { HTTP_END_MARKER, HTTP_START_MARKER, renderHttpSection } from "./bench/http-report.ts";
import { writeSection } from "./bench/report-file.ts";
import { measureRespawns } from "./bench/respawn.ts";
import { SUMMARY_END_MARKER, SUMMARY_START_MARKER, renderSummary } from "./bench/summary.ts";
import { type LoadShape, compareChainDirect } from "./bench/throughput.ts";
import { type Variant, compareVariants } from "./bench/variants.ts";

const ROOT = resolve(import.meta.dir, "..");
const REPORT = join(ROOT, "report.md");
const LIMIT_MS = 600_000;
const SHAPE: LoadShape = { connections: 64, depth: 16, warmupMs: 1000, durationMs: 3000, timeoutMs: 5000 };
const REPETITIONS = 5;
const KILLS_EACH = 10;
const HANGS_EACH = 3;
const HEALTH_ROUNDS = 3;
/**
 * The cost of health checking and of failover at the same load: the default, checks off, checks
 * after every 100 requests too, and the default while its servers are killed in turn.
 */
const HEALTH_VARIANTS: Variant[] = [
  { label: "checks every 1 s (default)", binDir: ROOT, args: [] },
  { label: "checks off", binDir: ROOT, args: ["--health-interval", "0"] },
  { label: "checks every 1 s and every 100 requests", binDir: ROOT, args: ["--health-every", "100"] },
  { label: "default, a server SIGKILLed every 500 ms", binDir: ROOT, args: [], killServerEveryMs: 500 },
];
const RESPAWN_LOG_LEVEL = "info";

installCleanupHandlers(LIMIT_MS);
const started = performance.now();
const machine = describeMachine();
const ticksPerSecond = clockTicksPerSecond();
const tmp = mkdtempSync(join(tmpdir(), "sy-bench-"));
trackDir(tmp);
const say = (line: string) => console.log(`bench: ${line}`);

let exitCode = 0;
let fleet: BenchFleet | undefined;
let direct: Standalone | undefined;
try {
  say(`${machine.cpu}, ${machine.cores} cores, Bun ${machine.bun}; temp dir ${tmp}`);
  direct = await startStandaloneServer(tmp);
  fleet = await startFleet(join(tmp, "fleet"), "warn");
  say(`standalone server pid ${direct.pid}; fleet of ${fleet.members().length} processes in ${fleet.runDir}`);
  const throughput = await compareChainDirect(fleet, direct, SHAPE, REPETITIONS, ticksPerSecond, say);
  await fleet.stop();
  fleet = undefined;
  await direct.stop();
  direct = undefined;

  const healthCost = await compareVariants(HEALTH_VARIANTS, tmp, SHAPE, HEALTH_ROUNDS, ticksPerSecond, (line) => say(`health cost: ${line}`));

  fleet = await startFleet(join(tmp, "respawn"), RESPAWN_LOG_LEVEL);
  const respawn = await measureRespawns(fleet, KILLS_EACH, 40_000, say);
  const hang = await measureHangs(fleet, HANGS_EACH, say);
  await fleet.stop();
  fleet = undefined;

  // The HTTP part does not take the results above with it when it fails: they are written all the same.
  let http: HttpBenchResult;
  try {
    http = await measureHttp({ tmp, ticksPerSecond, progress: (line) => say(`http: ${line}`) });
  } catch (error) {
    http = { status: "skipped", reason: `it failed: ${error instanceof Error ? error.message : String(error)}` };
    console.error(`bench: the HTTP part failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    exitCode = 1;
  }

  let features: FeaturesResult;
  try {
    features = await measureFeatures({ tmp, ticksPerSecond, progress: (line) => say(`features: ${line}`) });
  } catch (error) {
    features = { status: "skipped", reason: `it failed: ${error instanceof Error ? error.message : String(error)}` };
    console.error(`bench: the features part failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    exitCode = 1;
  }

  let rooms: RoomsBenchResult;
  try {
    rooms = await measureRooms({ tmp: mkdtempSync(join(tmp, "rooms-")), progress: (line) => say(`rooms: ${line}`) });
  } catch (error) {
    rooms = { status: "skipped", reason: `it failed: ${error instanceof Error ? error.message : String(error)}` };
    console.error(`bench: the rooms part failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    exitCode = 1;
  }

  const markdown = renderReport({ command: "make bench", machine, throughput, healthCost, respawn, hang, health: DEFAULT_HEALTH, respawnLogLevel: RESPAWN_LOG_LEVEL, ticksPerSecond, elapsedS: (performance.now() - started) / 1000 });
  console.log(`\n${markdown}\n`);
  writeIntoReport(REPORT, markdown);
  const httpMarkdown = renderHttpSection(http, machine, "make bench");
  console.log(`\n${httpMarkdown}\n`);
  writeSection(REPORT, HTTP_START_MARKER, HTTP_END_MARKER, httpMarkdown);
  const featuresMarkdown = renderFeaturesSection(features, machine, "make bench");
  console.log(`\n${featuresMarkdown}\n`);
  writeSection(REPORT, FEATURES_START_MARKER, FEATURES_END_MARKER, featuresMarkdown);
  const roomsMarkdown = renderRoomsSection(rooms, machine, "make bench");
  console.log(`\n${roomsMarkdown}\n`);
  writeSection(REPORT, ROOMS_START_MARKER, ROOMS_END_MARKER, roomsMarkdown);
  const summary = renderSummary({ machine, elapsedS: (performance.now() - started) / 1000, throughput, healthCost, respawn, hang, http, features, rooms });
  console.log(`\n${summary}\n`);
  writeSection(REPORT, SUMMARY_START_MARKER, SUMMARY_END_MARKER, summary);
  say(`written into ${REPORT} between the bench-summary, bench, bench-http, bench-features and bench-rooms markers`);
} catch (error) {
  console.error(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await fleet?.stop().catch(() => undefined);
  await direct?.stop().catch(() => undefined);
  cleanupAll();
}
process.exit(exitCode);
