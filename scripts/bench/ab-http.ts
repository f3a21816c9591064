// `bun scripts/bench/ab-http.ts <dirA> <dirB> [rounds]`: the HTTP front door of two builds (each
// directory holds compiled binaries), flat and two-tier, wrk against each in turn, interleaved in
// one run. Prints req/s and the proxying processes' CPU µs per request (load balancer and reverse
// proxies), medians, and B/A. For checking a change to the HTTP path against the commit before
// it; `make bench` remains the figure of record.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freeTcpPort } from "@switchyard/testing";
import { cleanupAll, installCleanupHandlers, trackDir } from "./cleanup.ts";
import { clockTicksPerSecond } from "./cpu.ts";
import { type Target, startHttpFleet } from "./http-targets.ts";
import { ensureHttpTools } from "./http-tools.ts";
import { median } from "./stats.ts";
import { runWrk, wrkArgs } from "./wrk.ts";

const [dirA, dirB, rounds = "4"] = process.argv.slice(2);
if (!dirA || !dirB || !/^[1-9]\d*$/.test(rounds)) {
  console.error("usage: bun scripts/bench/ab-http.ts <dirA> <dirB> [rounds ≥ 1]");
  process.exit(64);
}
installCleanupHandlers(600_000);
const tools = await ensureHttpTools((line) => console.log(`ab-http: ${line}`));
if (!tools.ok) {
  console.error(`ab-http: ${tools.reason}`);
  process.exit(1);
}
const wrk = tools.tools.wrk;
const ticksPerSecond = clockTicksPerSecond();
const dir = mkdtempSync(join(tmpdir(), "sy-ab-http-"));
trackDir(dir);
const shape = { connections: 64, threads: 1, durationS: 3, warmupS: 1, timeoutS: 5 };

interface Entry {
  readonly label: string;
  readonly target: Target;
  readonly rps: number[];
  readonly us: number[];
}
const entries: Entry[] = [];
try {
  for (const [name, proxies] of [["flat", 0], ["two-tier", 2]] as const) {
    for (const [side, bin] of [["A", dirA], ["B", dirB]] as const) {
      const target = await startHttpFleet({ proxies, serversPerProxy: 3, upstreams: [] }, freeTcpPort(), join(dir, `${name}-${side}`), resolve(bin));
      entries.push({ label: `${name} ${side}`, target, rps: [], us: [] });
    }
  }
  // One discarded run of each: fresh processes settle.
  for (const e of entries) await runWrk(wrkArgs(wrk, e.target.url, shape, 2), 2, []);
  for (let round = 1; round <= Number(rounds); round++) {
    for (const e of entries) {
      await runWrk(wrkArgs(wrk, e.target.url, shape, shape.warmupS), shape.warmupS, []);
      const { proxy } = e.target.pids();
      const run = await runWrk(wrkArgs(wrk, e.target.url, shape, shape.durationS), shape.durationS, proxy);
      const ticks = proxy.reduce((n, pid) => n + (run.cpuTicks[pid] ?? 0), 0);
      e.rps.push(run.rps);
      e.us.push(((ticks / ticksPerSecond) * 1e6) / run.requests);
      console.log(`ab-http: ${e.label} ${round}/${rounds}: ${Math.round(run.rps).toLocaleString("en-US")} req/s, proxying ${e.us.at(-1)!.toFixed(1)} µs/request`);
    }
  }
  for (const name of ["flat", "two-tier"]) {
    const [a, b] = [entries.find((e) => e.label === `${name} A`)!, entries.find((e) => e.label === `${name} B`)!];
    const [ra, rb, ua, ub] = [median(a.rps), median(b.rps), median(a.us), median(b.us)];
    console.log(`${name}: A ${Math.round(ra).toLocaleString("en-US")} req/s, ${ua.toFixed(1)} µs; B ${Math.round(rb).toLocaleString("en-US")} req/s, ${ub.toFixed(1)} µs; B/A throughput ${(rb / ra).toFixed(3)}×, CPU ${(ub / ua).toFixed(3)}×`);
  }
} finally {
  for (const e of entries) await e.target.stop().catch(() => undefined);
  cleanupAll();
}
