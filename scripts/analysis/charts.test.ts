// The charts render to SVG without a browser, with their titles, axis titles and data in them.
import { expect, test } from "bun:test";
import { type BalanceRun, MAGLEV, SEED, XXH } from "./balance.ts";
import { imbalanceByN, loadByN, perServerBars, timeline } from "./charts.ts";
import type { FailoverRun } from "./failover.ts";
import { spread } from "./model.ts";
import { renderSvg, wrap } from "./svg.ts";

const run = (choice: BalanceRun["choice"], counts: number[]): BalanceRun => ({
  choice,
  n: counts.length,
  requests: counts.reduce((a, b) => a + b, 0),
  failed: 0,
  elapsedMs: 900,
  mismatch: "",
  ...spread(counts),
});
const runs = [run(SEED, [8440, 480, 1080]), run(XXH, [3565, 2358, 4077]), run(MAGLEV, [3325, 3319, 3356]), run(SEED, [9544, 456]), run(MAGLEV, [4948, 5052])];

test("wrap breaks a subtitle at spaces into lines no longer than asked", () => {
  expect(wrap("aa bb cc dd", 5)).toEqual(["aa bb", "cc dd"]);
  expect(wrap("one", 5)).toEqual(["one"]);
  expect(wrap("", 5)).toEqual([]);
  for (const line of wrap("a subtitle long enough to need three lines at most twenty characters", 20)) expect(line.length).toBeLessThanOrEqual(20);
});

test("the A-1 bar chart: an SVG with its title, axis titles, every choice and the counts as labels", async () => {
  const svg = await renderSvg(perServerBars(runs.filter((r) => r.n === 3), [SEED, XXH, MAGLEV], "A-1: requests per server, N = 3"));
  expect(svg.startsWith("<svg")).toBe(true);
  for (const text of ["A-1: requests per server, N = 3", "requests answered", "hash choice", "seed&apos;s H, Φ", "xxh32", "Maglev", "8,440", "Server 3"]) {
    expect(svg.replaceAll("'", "&apos;")).toContain(text);
  }
});

test("the A-2 charts show N on the x axis and take only the choices asked for", async () => {
  const byN = await renderSvg(loadByN(runs, [SEED, MAGLEV], "A-2: load"));
  expect(byN).toContain("servers (N)");
  expect(byN).toContain("requests per server");
  expect(byN).not.toContain(">xxh32<");
  const imbalance = await renderSvg(imbalanceByN(runs, [SEED, XXH, MAGLEV], "A-2: imbalance"));
  expect(imbalance).toContain("max / mean (×)");
});

test("the A-3 timeline marks the kill and the replacement", async () => {
  const failover: FailoverRun = {
    options: { servers: 2, policy: "consistent-hash", victim: 2, killAtMs: 200, durationMs: 400, concurrency: 4, timeoutMs: 1000, binMs: 100, warmupRequests: 10 },
    endpoints: [],
    bins: [0, 100, 200, 300].flatMap((t) => [
      { t, server: 1, requests: 50 },
      { t, server: 2, requests: t === 200 ? 0 : 50 },
    ]),
    load: { perServer: new Map([[1, 200], [2, 150]]), failed: 0, errors: new Map(), elapsedMs: 400 },
    oldPid: 10,
    newPid: 11,
    killedAt: 201,
    backAt: 260,
    watchdogMs: 50,
    silence: { from: 0.5, to: 70 },
  };
  const svg = await renderSvg(timeline(failover, "A-3: a server killed"));
  for (const text of ["SIGKILL Server 2", "replacement ready", "time since the load started (s)", "350 requests, 0 failed"]) expect(svg).toContain(text);
});
