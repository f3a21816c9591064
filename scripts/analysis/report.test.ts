// What report.md says follows from what was measured: failures and disagreements are shown, not hidden.
import { expect, test } from "bun:test";
import { type BalanceRun, MAGLEV, SEED } from "./balance.ts";
import type { FailoverRun } from "./failover.ts";
import { spread } from "./model.ts";
import { renderA1, renderA3 } from "./report.ts";

const run = (choice: BalanceRun["choice"], counts: number[], failed = 0, mismatch = ""): BalanceRun => ({ choice, n: counts.length, requests: 10_000, failed, elapsedMs: 800, mismatch, ...spread(counts) });

test("A-1: a row per choice, the busiest server's share, and a clean run said to be clean", () => {
  const text = renderA1([run(SEED, [8440, 480, 1080]), run(MAGLEV, [3325, 3319, 3356])], [SEED, MAGLEV]);
  expect(text).toContain("| seed's H, Φ | 8,440 | 480 | 1,080 | 2.53 | 1.086 | 0 |");
  expect(text).toContain("Server 1 answered 8,440 of 10,000 requests (84.4 %");
  expect(text).toContain("Every request was answered");
});

test("A-1: failed requests and counts /stats disagrees with are listed as warnings", () => {
  const text = renderA1([run(SEED, [8000, 480, 1080], 440, "server 1: 8000 answers read, 8001 in /stats"), run(MAGLEV, [3325, 3319, 3356])], [SEED, MAGLEV]);
  expect(text).toContain("440 of 10,000 requests failed");
  expect(text).toContain("server 1: 8000 answers read, 8001 in /stats");
  expect(text).not.toContain("Every request was answered");
});

const failover = (overrides: Partial<FailoverRun>): FailoverRun => ({
  options: { servers: 3, policy: "maglev", victim: 2, killAtMs: 2500, durationMs: 6000, concurrency: 32, timeoutMs: 10_000, binMs: 100, warmupRequests: 5000 },
  endpoints: [{ method: "GET", path: "/heartbeat", expected: 200, status: 200, answer: "" }],
  bins: [],
  load: { perServer: new Map([[1, 10], [2, 10], [3, 10]]), failed: 0, errors: new Map(), elapsedMs: 6000 },
  oldPid: 100,
  newPid: 200,
  killedAt: 2500,
  backAt: 2560,
  watchdogMs: 45,
  silence: { from: -6.5, to: 80 },
  ...overrides,
});

test("A-3: the endpoints, the replacement and the silence, in the words a reader needs", () => {
  const text = renderA3(failover({}));
  expect(text).toContain("| `GET /heartbeat` | 200 | 200 | (empty) |");
  expect(text).toContain("**0 failed**");
  expect(text).toContain("ready **45 ms** after it reaped the old one");
  expect(text).toContain("6.5 ms before the kill");
  expect(text).toContain("**80.0 ms** after the kill");
});

test("A-3: an unexpected status, failures and a server that never came back are called out", () => {
  const text = renderA3(
    failover({
      endpoints: [{ method: "GET", path: "/rep", expected: 200, status: 500, answer: "boom | bang" }],
      load: { perServer: new Map([[1, 10]]), failed: 3, errors: new Map([["HTTP 502", 3]]), elapsedMs: 6000 },
      silence: null,
    }),
  );
  expect(text).toContain("500 **(unexpected)**");
  expect(text).toContain("boom \\| bang");
  expect(text).toContain("**3 failed** (3 × HTTP 502)");
  expect(text).toContain("never answered again");
});
