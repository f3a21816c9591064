import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spawned, binary, killAllSpawned } from "@switchyard/testing";

const dirs: string[] = [];
afterEach(() => {
  killAllSpawned();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

test("a .env or bunfig.toml in the user's directory does not change a shipped binary", async () => {
  const cwd = mkdtempSync(join(tmpdir(), "sy-dotenv-"));
  const runDir = mkdtempSync(join(tmpdir(), "sy-empty-"));
  dirs.push(cwd, runDir);
  writeFileSync(join(cwd, ".env"), "SWITCHYARD_RUN_DIR=/nonexistent-from-dotenv\n");
  writeFileSync(join(cwd, "bunfig.toml"), 'preload = ["./missing-preload.ts"]\n');
  // No --run-dir: the client must use $SWITCHYARD_RUN_DIR from the real environment only.
  const client = new Spawned([binary("client"), "3", "--value", "1"], { cwd, env: { ...process.env, SWITCHYARD_RUN_DIR: runDir } });
  expect(await client.exited(10_000)).toBe(2);
  expect(client.output).toContain(join(runDir, "load_balancer.sock"));
  expect(client.output).not.toContain("nonexistent-from-dotenv");
  expect(client.output).not.toContain("missing-preload");
});
