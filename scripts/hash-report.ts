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
import { HASH_NAMES } from "../packages/upstream/src/policies/hash-functions.ts";
import { PROBES } from "../packages/upstream/src/policies/ring.ts";
import { type Measure, measurePolicy, requestIds } from "./analysis/model.ts";

interface Variant {
  readonly label: string;
  /** The policy spec, as --lb-policy takes it. */
  readonly spec: string;
}
interface Row {
  readonly policy: string;
  readonly n: number;
  readonly ids: Measure;
  readonly rids: Measure;
}

const VARIANTS: Variant[] = [
  ...HASH_NAMES.flatMap((hash) => PROBES.map((probe) => ({ label: `consistent-hash ${hash} ${probe}`, spec: `consistent-hash:hash=${hash},server-hash=${hash},probe=${probe}` }))),
  { label: "maglev", spec: "maglev" },
  { label: "ip-hash", spec: "ip-hash" },
];

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
const rows: Row[] = VARIANTS.flatMap((v) => [2, 3, 4, 5, 6].map((n) => ({ policy: v.label, n, ids: measurePolicy(v.spec, n, ids), rids: measurePolicy(v.spec, n, rids) })));
console.log(values.json ? JSON.stringify({ keys: count, rows }, null, 2) : renderTable(rows, count));
