// `bun scripts/bench/ab.ts <dirA> <dirB> [rounds] [-- watchdog flags for B]`: the chain benchmark
// against two builds (each directory holds compiled binaries), or one build with different flags,
// interleaved in one run. Prints req/s and the fleet's CPU µs per request by role, and B/A. For
// trying an optimisation against the commit before it; `make bench` remains the figure of record.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanupAll, installCleanupHandlers, trackDir } from "./cleanup.ts";
import { clockTicksPerSecond } from "./cpu.ts";
import { compareVariants, summarise } from "./variants.ts";

const argv = process.argv.slice(2);
const dash = argv.indexOf("--");
const [dirA, dirB, rounds = "5"] = dash < 0 ? argv : argv.slice(0, dash);
const flagsB = dash < 0 ? [] : argv.slice(dash + 1);
if (!dirA || !dirB || !/^\d+$/.test(rounds)) {
  console.error("usage: bun scripts/bench/ab.ts <dirA> <dirB> [rounds] [-- watchdog flags for B]");
  process.exit(64);
}
installCleanupHandlers(600_000);
const tmp = mkdtempSync(join(tmpdir(), "sy-ab-"));
trackDir(tmp);
const shape = { connections: 64, depth: 16, warmupMs: 1000, durationMs: 3000, timeoutMs: 5000 };
const variants = [
  { label: "A", binDir: dirA, args: [] },
  { label: "B", binDir: dirB, args: flagsB },
];
let code = 0;
try {
  const results = await compareVariants(variants, tmp, shape, Number(rounds), clockTicksPerSecond(), console.log);
  for (const line of summarise(results)) console.log(line);
} catch (error) {
  console.error(`ab failed: ${(error as Error).message}`);
  code = 1;
} finally {
  cleanupAll();
}
process.exit(code);
