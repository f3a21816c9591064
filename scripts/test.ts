// `make test`: unit tests beside the code, then end-to-end tests against the compiled binaries.
// Prints bun's own output, then one closing line `N passed, N failed` for CI.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const bun = process.execPath;
// Servers keep reservations in the data directory: the tests' go to a temporary one, never the user's.
const dataDir = mkdtempSync(join(tmpdir(), "switchyard-test-data-"));
process.env.SWITCHYARD_DATA_DIR ??= dataDir;
process.on("exit", () => rmSync(dataDir, { recursive: true, force: true }));

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

async function run(label: string, args: string[]): Promise<Counts & { code: number }> {
  console.log(`\n== ${label}: bun ${args.join(" ")}`);
  const proc = Bun.spawn([bun, ...args], { stdout: "inherit", stderr: "pipe", stdin: "ignore" });
  let summary = "";
  for await (const chunk of proc.stderr) {
    const text = new TextDecoder().decode(chunk);
    process.stderr.write(text);
    summary = (summary + text).slice(-4000);
  }
  const code = await proc.exited;
  const count = (word: string) => Number(new RegExp(`^\\s*(\\d+) ${word}$`, "m").exec(summary)?.[1] ?? 0);
  return { passed: count("pass"), failed: count("fail") + (code !== 0 && count("fail") === 0 ? 1 : 0), skipped: count("skip"), code };
}

const typecheck = await typeCheck();
/** The strict type check counts as one test, so a type error shows in the closing line too. */
async function typeCheck(): Promise<boolean> {
  console.log("== type check: tsc -p tsconfig.json");
  const proc = Bun.spawn([bun, "x", "tsc", "-p", "tsconfig.json"], { stdout: "inherit", stderr: "inherit", stdin: "ignore" });
  return (await proc.exited) === 0;
}

const unit = await run("unit tests", ["test", "--timeout=60000", "packages", "apps"]);
const e2e = await run("end-to-end tests", ["test", "--timeout=120000", "./e2e"]);
const passed = unit.passed + e2e.passed + (typecheck ? 1 : 0);
const failed = unit.failed + e2e.failed + (typecheck ? 0 : 1);
const skipped = unit.skipped + e2e.skipped;
console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(typecheck && unit.code === 0 && e2e.code === 0 ? 0 : 1);
