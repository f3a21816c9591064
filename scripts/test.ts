// `make test`: unit tests beside the code, then end-to-end tests against the compiled binaries.
// Prints bun's own output, then one closing line `N passed, N failed` for CI.
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
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
  // env: process.env as it is now; without it Bun.spawn passes the environment this script started with,
  // and the tests would miss SWITCHYARD_DATA_DIR and SWITCHYARD_CHROMIUM_MISSING set here.
  const proc = Bun.spawn([bun, ...args], { env: process.env, stdout: "inherit", stderr: "pipe", stdin: "ignore" });
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

/**
 * e2e/dashboard-browser.test.ts drives Debian's Chromium: installed here when missing and possible (root,
 * apt-get). A failed install never fails the run: that one test then skips, saying why
 * ($SWITCHYARD_CHROMIUM_MISSING, which the e2e run inherits).
 */
async function ensureChromium(): Promise<void> {
  const chromium = "/usr/bin/chromium";
  if (existsSync(chromium)) return;
  console.log(`\n== Chromium: ${chromium} is missing (the dashboard browser test needs it)`);
  const why = await installChromium(chromium).catch((error: Error) => `installing it failed: ${error.message}`);
  if (why === null) console.log(`== Chromium: installed ${chromium}`);
  else {
    console.log(`== Chromium: not installed (${why}); the dashboard browser test will be skipped`);
    process.env.SWITCHYARD_CHROMIUM_MISSING = why;
  }
}

/** null once `chromium` exists, otherwise why it could not be installed. */
async function installChromium(chromium: string): Promise<string | null> {
  const aptGet = Bun.which("apt-get");
  if (aptGet === null) return "apt-get is not available";
  if (process.getuid?.() !== 0) return "installing it needs root: sudo apt-get install -y chromium";
  const apt = async (args: string[]): Promise<number> => {
    console.log(`== Chromium: apt-get ${args.join(" ")}`);
    const proc = Bun.spawn([aptGet, ...args], {
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
      stdout: "inherit",
      stderr: "inherit",
      stdin: "ignore",
      timeout: 15 * 60_000,
    });
    return await proc.exited;
  };
  // A fresh container has no package lists: without them apt-get knows no chromium.
  let updated = false;
  const update = async () => {
    updated = true;
    return await apt(["update"]);
  };
  if (!aptListsPresent()) {
    const code = await update();
    if (code !== 0) return `apt-get update exited ${code}`;
  }
  let code = await apt(["install", "-y", "chromium"]);
  // Stale lists name package versions the mirror no longer has: refresh them once and retry.
  if (code !== 0 && !updated && (await update()) === 0) code = await apt(["install", "-y", "chromium"]);
  if (code !== 0) return `apt-get install -y chromium exited ${code}`;
  return existsSync(chromium) ? null : `apt-get install -y chromium succeeded but ${chromium} is still missing`;
}

function aptListsPresent(): boolean {
  try {
    return readdirSync("/var/lib/apt/lists").some((name) => name.includes("_Packages"));
  } catch {
    return false;
  }
}

const unit = await run("unit tests", ["test", "--timeout=60000", "packages", "apps", "scripts"]);
await ensureChromium();
const e2e = await run("end-to-end tests", ["test", "--timeout=120000", "./e2e"]);
const passed = unit.passed + e2e.passed + (typecheck ? 1 : 0);
const failed = unit.failed + e2e.failed + (typecheck ? 0 : 1);
const skipped = unit.skipped + e2e.skipped;
console.log(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
process.exit(typecheck && unit.code === 0 && e2e.code === 0 ? 0 : 1);
