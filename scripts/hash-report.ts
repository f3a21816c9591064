/**
 * The balance report of the hashing policies (seeds/002 Task 4: A-1, A-2, and A-4's "modify the hash
 * functions"), computed straight from the policies, no processes:
 *
 *   node_modules/.bin/bun scripts/hash-report.ts [--keys 10000] [--json]
 *
 * For each policy and hash function, and N = 2..6 upstreams (n = 1..N, all available):
 *   max/mean  the busiest upstream's keys over the average (1.00 is perfect balance),
 *   cv        coefficient of variation of the keys per upstream (standard deviation / mean),
 *   moved     share of keys whose upstream changes when one upstream is removed from the pool,
 *             averaged over which one leaves (1/N is the least possible: its own keys).
 * Two key sets: client ids 1..K, and K random 6-digit request ids R_id as in the seed's Appendix B
 * (from a seeded PRNG, so every run prints the same table).
 */
import { parseArgs } from "node:util";
import { seededRandom } from "@switchyard/testing/random";
import { consistentHash } from "../packages/upstream/src/policies/consistent-hash.ts";
import { HASH_NAMES } from "../packages/upstream/src/policies/hash-functions.ts";
import { ipHash } from "../packages/upstream/src/policies/ip-hash.ts";
import { maglev } from "../packages/upstream/src/policies/maglev.ts";
import { PolicyParams } from "../packages/upstream/src/policies/params.ts";
import { PROBES } from "../packages/upstream/src/policies/ring.ts";
import type { Candidate, PolicyDeps, PolicyFactory } from "../packages/upstream/src/policy.ts";

interface Variant {
  readonly label: string;
  readonly factory: PolicyFactory;
  readonly spec: string;
}
interface Measure {
  readonly maxMean: number;
  readonly cv: number;
  readonly moved: number;
}
interface Row {
  readonly policy: string;
  readonly n: number;
  readonly ids: Measure;
  readonly rids: Measure;
}

const VARIANTS: Variant[] = [
  ...HASH_NAMES.flatMap((hash) =>
    PROBES.map((probe) => ({ label: `consistent-hash ${hash} ${probe}`, factory: consistentHash, spec: `hash=${hash},server-hash=${hash},probe=${probe}` })),
  ),
  { label: "maglev", factory: maglev, spec: "" },
  { label: "ip-hash", factory: ipHash, spec: "" },
];

/** The hashing policies use neither randomness nor time. */
const DEPS: PolicyDeps = { random: () => 0, now: () => 0 };

/** Repeatable 6-digit request ids, like the seed's R_id. */
function requestIds(count: number, seed: number): number[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => 100_000 + Math.floor(random() * 900_000));
}

function measure(variant: Variant, n: number, keys: readonly number[]): Measure {
  const policy = variant.factory.create(PolicyParams.parse(variant.spec === "" ? variant.factory.name : `${variant.factory.name}:${variant.spec}`), DEPS);
  const pool: Candidate[] = Array.from({ length: n }, (_, i) => ({ n: i + 1, available: true, inflight: 0, load: undefined }));
  const before = keys.map((k) => policy.select(pool, k)?.n ?? 0);
  const counts = new Array<number>(n).fill(0);
  for (const owner of before) counts[owner - 1]!++;
  const mean = keys.length / n;
  const variance = counts.reduce((sum, c) => sum + (c - mean) ** 2, 0) / n;
  let moved = 0;
  for (const leaving of pool) {
    const rest = pool.filter((u) => u !== leaving);
    keys.forEach((k, i) => {
      if (policy.select(rest, k)?.n !== before[i]) moved++;
    });
  }
  return { maxMean: Math.max(...counts) / mean, cv: Math.sqrt(variance) / mean, moved: moved / n / keys.length };
}

function renderTable(rows: readonly Row[], count: number): string {
  const widths = [36, 2, 8, 6, 6, 8, 6, 6];
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  const cells = (m: Measure) => [m.maxMean.toFixed(2), m.cv.toFixed(3), m.moved.toFixed(3)];
  const group = 8 + 2 + 6 + 2 + 6;
  const out = [
    `${"".padEnd(36 + 2 + 2 + 2)}${`client ids 1..${count}`.padEnd(group + 2)}${count} random 6-digit R_id`,
    line(["policy", "N", "max/mean", "cv", "moved", "max/mean", "cv", "moved"]),
  ];
  let last = "";
  for (const row of rows) {
    if (row.policy !== last && last !== "") out.push("");
    out.push(line([row.policy === last ? "" : row.policy, String(row.n), ...cells(row.ids), ...cells(row.rids)]));
    last = row.policy;
  }
  const least = [2, 3, 4, 5, 6].map((n) => `N=${n}: ${(1 / n).toFixed(3)}`).join(", ");
  return `${out.join("\n")}\n\nmoved: when one upstream is removed; the least possible is 1/N (${least})`;
}

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { keys: { type: "string", default: "10000" }, json: { type: "boolean", default: false } } });
const count = Number(values.keys);
if (!Number.isInteger(count) || count < 1) throw new Error(`--keys must be a positive integer, not ${values.keys}`);
const ids = Array.from({ length: count }, (_, i) => i + 1);
const rids = requestIds(count, 2024);
const rows: Row[] = VARIANTS.flatMap((v) => [2, 3, 4, 5, 6].map((n) => ({ policy: v.label, n, ids: measure(v, n, ids), rids: measure(v, n, rids) })));
console.log(values.json ? JSON.stringify({ keys: count, rows }, null, 2) : renderTable(rows, count));
