// `make analysis`: the four experiments of seeds/002 Task 4 against real compiled fleets.
//   A-1  10,000 requests on N = 3: requests per server, the seed's hash functions against better ones
//   A-2  N = 2..6, 10,000 requests each: the average load per server and its spread
//   A-3  every endpoint, then a server SIGKILLed under load: requests per server per 100 ms
//   A-4  the hash functions changed (poly-prime, murmur3, xxh32, a 160-vnode ring, Maglev): A-1 and A-2 again
// Charts go to docs/figures/*.svg, tables and numbers into report.md between the analysis markers.
// Every fleet runs in its own run directory and is killed by pid when its run ends, on failure,
// on Ctrl-C and after the time limit.
//
//   bun scripts/analysis.ts [--requests 10000] [--no-write]
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { cleanupAll, installCleanupHandlers } from "./bench/cleanup.ts";
import { describeMachine } from "./bench/machine.ts";
import { writeSection } from "./bench/report-file.ts";
import { type BalanceRun, CHOICES, MAGLEV, POLY, MURMUR, SEED, XXH, XXH_MANY, runBalance } from "./analysis/balance.ts";
import { imbalanceByN, loadByN, perServerBars, ringPictures, timeline } from "./analysis/charts.ts";
import { runFailover } from "./analysis/failover.ts";
import { type Measure, measurePolicy, requestIds, ringPicture } from "./analysis/model.ts";
import { Progress } from "./analysis/progress.ts";
import { FIGURES, renderA1, renderA2, renderA3, renderA4, renderRunInfo } from "./analysis/report.ts";
import { writeSvg } from "./analysis/svg.ts";

const ROOT = resolve(import.meta.dir, "..");
const REPORT = join(ROOT, "report.md");
const LIMIT_MS = 600_000;
const NS = [2, 3, 4, 5, 6];
const CONCURRENCY = 64;
const TIMEOUT_MS = 10_000;
/** A-1 and A-2 compare these; A-4 adds the other hash functions. */
const MAIN = [SEED, XXH, MAGLEV];
const RINGS = [SEED, POLY, MURMUR, XXH, XXH_MANY];
const FAILOVER = { servers: 3, policy: XXH.policy, victim: 2, killAtMs: 2500, durationMs: 6000, concurrency: 32, timeoutMs: TIMEOUT_MS, binMs: 100, warmupRequests: 5000 };

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { requests: { type: "string", default: "10000" }, "no-write": { type: "boolean", default: false } } });
const requests = Number(values.requests);
if (!Number.isInteger(requests) || requests < 1 || requests > 1_000_000) {
  console.error(`analysis: --requests must be an integer from 1 to 1000000, not ${values.requests}`);
  process.exit(64);
}

installCleanupHandlers(LIMIT_MS, "analysis");
const machine = describeMachine();
const started = performance.now();
const progress = new Progress(CHOICES.length * NS.length + 2);

try {
  const runs: BalanceRun[] = [];
  for (const choice of CHOICES) {
    for (const n of NS) {
      progress.begin(`A-1/A-2/A-4: ${choice.label}, N = ${n}`);
      const run = await runBalance(choice, n, { requests, concurrency: CONCURRENCY, timeoutMs: TIMEOUT_MS, durationMs: 120_000 }, (f) => progress.update(f));
      runs.push(run);
      if (run.failed > 0 || run.mismatch !== "") progress.note(`warning: ${choice.label}, N = ${n}: ${run.failed} failed${run.mismatch === "" ? "" : `; ${run.mismatch}`}`);
    }
  }

  progress.begin(`A-3: every endpoint, then Server ${FAILOVER.victim} killed under load`);
  const failover = await runFailover(FAILOVER, (f) => progress.update(f));

  progress.begin("charts and report");
  const keys = requestIds(10_000, 2024);
  const moved = new Map<string, Measure>(MAIN.flatMap((c) => NS.map((n) => [`${c.id}/${n}`, measurePolicy(c.policy, n, keys)] as const)));
  const seedRing = ringPicture("quadratic", 3, keys);
  const strongRing = ringPicture("xxh32", 3, keys);
  const atThree = runs.filter((r) => r.n === 3);
  const figures = join(ROOT, FIGURES);
  await writeSvg(join(figures, "a1-requests-per-server.svg"), perServerBars(atThree, MAIN, "A-1: requests per server, N = 3"));
  await writeSvg(join(figures, "a2-load-by-n.svg"), loadByN(runs, MAIN, "A-2: load per server as N grows from 2 to 6"));
  await writeSvg(join(figures, "a2-imbalance.svg"), imbalanceByN(runs, MAIN, "A-2: how uneven the load is as N grows"));
  await writeSvg(join(figures, "a3-timeline.svg"), timeline(failover, `A-3: Server ${FAILOVER.victim} SIGKILLed under load`));
  await writeSvg(join(figures, "a4-requests-per-server.svg"), perServerBars(atThree, RINGS, "A-4: requests per server with other hash functions, N = 3"));
  await writeSvg(join(figures, "a4-imbalance.svg"), imbalanceByN(runs, CHOICES, "A-4: how uneven the load is, every hash choice"));
  await writeSvg(
    join(figures, "a4-ring.svg"),
    ringPictures(
      [
        { label: "the seed's H(i) = i² + 2i + 17 and Φ(i, j) = i² + j² + 2j + 25", picture: seedRing },
        { label: "xxh32 for both", picture: strongRing },
      ],
      "A-4: where keys and virtual servers land on the ring, N = 3",
    ),
  );

  const seconds = (performance.now() - started) / 1000;
  const sections: Array<[string, string]> = [
    ["analysis", renderRunInfo({ machine, seconds, requests, concurrency: CONCURRENCY }, CHOICES)],
    ["analysis-a1", renderA1(runs, MAIN)],
    ["analysis-a2", renderA2(runs, MAIN, moved)],
    ["analysis-a3", renderA3(failover)],
    ["analysis-a4", renderA4(runs, CHOICES, seedRing, strongRing, keys.length)],
  ];
  if (!values["no-write"]) for (const [name, text] of sections) writeSection(REPORT, `<!-- ${name}:start -->`, `<!-- ${name}:end -->`, text);
  else for (const [, text] of sections) console.log(`${text}\n`);
  progress.done(
    `analysis: done in ${Math.round(seconds)} s; ${runs.length + 1} fleets; charts in ${FIGURES}/${values["no-write"] ? "" : ", tables in report.md"}; A-3: ${failover.load.failed} failed, replacement ready after ${failover.watchdogMs} ms`,
  );
} catch (error) {
  progress.done(`analysis: failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
} finally {
  cleanupAll();
}
