// SupervisedChild with /bin/sh standing in for a member of the fleet: how it treats exit codes and stops.
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@switchyard/log";
import { SupervisedChild } from "./child.ts";
import type { ChildSpec } from "./plan.ts";

const log = createLogger({ role: "Watchdog", level: "silent" });
const children: SupervisedChild[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function shell(script: string, ...args: string[]): ChildSpec {
  return { tier: "balancer", label: "Load Balancer", role: "load_balancer", id: 0, binary: "/bin/sh", args: () => ["-c", script, "sh", ...args] };
}

function supervise(spec: ChildSpec, fatal: string[] = []): SupervisedChild {
  const child = new SupervisedChild({
    spec,
    log,
    readyTimeoutMs: 10_000,
    // The second death within the window waits 10 s: long enough to look at a child that is restarting.
    restartPolicy: { windowMs: 10_000, maxRestarts: 1, initialDelayMs: 10_000, maxDelayMs: 10_000 },
    onFatal: (s) => fatal.push(s.label),
  });
  children.push(child);
  return child;
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

test("exit code 78 before it was ever ready is fatal: reported once, never restarted", async () => {
  const fatal: string[] = [];
  const child = supervise(shell("exit 78"), fatal);
  expect(child.state).toBe("starting");
  await child.start(); // resolves: the child was given up on
  expect(fatal).toEqual(["Load Balancer"]);
  expect([child.failure, child.state, child.restarts, child.runningPid]).toEqual(["exit code 78 before it was ever ready", "stopping", 0, null]);
});

test("exit code 64 (a flag it does not know) before ready is fatal too", async () => {
  const fatal: string[] = [];
  await supervise(shell("exit 64"), fatal).start();
  expect(fatal).toEqual(["Load Balancer"]);
});

test("any other death is restarted with the same spec, and counted", async () => {
  const fatal: string[] = [];
  const child = supervise(shell("exit 3"), fatal);
  void child.start();
  await until(() => child.restarts === 2, "two restarts");
  expect([child.state, child.ready, fatal]).toEqual(["restarting", false, []]);
  await child.stop(1000);
  expect(child.state).toBe("stopping");
});

test("exit code 78 after it was ready once is a crash like any other: restarted", async () => {
  const fatal: string[] = [];
  const child = supervise(shell("sleep 0.2; exit 78"), fatal);
  const started = child.start();
  expect(child.runningPid).toBe(child.pid!);
  child.markReady(child.pid!, { http: "http://127.0.0.1:5000" });
  await started;
  expect([child.state, child.readyInfo.http]).toEqual(["up", "http://127.0.0.1:5000"]);
  await until(() => child.restarts === 1, "a restart");
  expect(fatal).toEqual([]);
});

test("stopping twice (a /rm during shutdown) sends one SIGTERM, so the child still drains", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sy-wd-"));
  dirs.push(dir);
  const terms = join(dir, "terms");
  // Ignores SIGTERM (writing a line per signal) until the watchdog's SIGKILL.
  const child = supervise(shell(`trap 'echo term >> "$1"' TERM; while :; do sleep 0.01; done`, terms));
  void child.start();
  await Bun.sleep(50); // let the shell install its trap
  const first = child.stop(500);
  // Pending signals merge: ask again only after the first SIGTERM was handled.
  await until(() => existsSync(terms), "the first SIGTERM");
  await Promise.all([first, child.stop(500)]);
  expect(readFileSync(terms, "utf8")).toBe("term\n");
  expect(child.runningPid).toBeNull();
});
