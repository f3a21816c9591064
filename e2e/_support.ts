// Shared by the end-to-end tests (not a test file itself: bun runs only *.test.ts).
import { afterEach, setDefaultTimeout } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Fleet, type FleetOptions, Spawned, binary, killAllSpawned, makeTempDir, removeTempDirs, startFleet } from "@switchyard/testing";

export type BinaryName = Parameters<typeof binary>[0];

const fleets: Fleet[] = [];

// Servers keep reservations in the data directory: whatever these tests start uses a temporary one, never the user's.
process.env.SWITCHYARD_DATA_DIR ??= mkdtempSync(join(tmpdir(), "sy-e2e-data-"));

/**
 * Registers the clean-up every test file needs: each fleet a test started is destroyed by pid, every
 * other process it spawned is killed, and its temp directories are removed, also when it failed.
 * Also sets the per-test timeout for the file.
 */
export function cleanUpAfterEach(): void {
  // Fleets are real processes on a possibly loaded 2-core machine; bun's default of 5 s per test is
  // too tight (and bun test ignores bunfig's timeout when run as `bun test ./e2e`).
  setDefaultTimeout(60_000);
  afterEach(async () => {
    for (const fleet of fleets.splice(0)) await fleet.destroy();
    killAllSpawned();
    removeTempDirs();
  });
}

/** A switchyard.toml with `text` in a fresh temp directory (removed after the test): its path, for --config. */
export function configFile(text: string): string {
  const path = join(makeTempDir(), "switchyard.toml");
  writeFileSync(path, text);
  return path;
}

/** startFleet, remembered for the afterEach clean-up. */
export async function fleetFor(args: string[] = [], options: FleetOptions = {}): Promise<Fleet> {
  const fleet = await startFleet(args, 30_000, options);
  fleets.push(fleet);
  return fleet;
}

/** `./client <id>` against a fleet, with input typed on stdin (call `write`), as a user in a terminal. */
export function interactiveClient(fleet: Fleet, id: number | string): Spawned {
  return new Spawned([binary("client"), String(id), "--run-dir", fleet.runDir], { stdin: "pipe" });
}

/** Matches a log line about exactly this client (Client #10 must not match Client #107). */
export function aboutClient(id: number): RegExp {
  return new RegExp(`Client #${id}(?!\\d)`);
}

/** The lines of the fleet's log (every member writes to the watchdog's terminal) matching `pattern`. */
export function logLines(fleet: Fleet, pattern: RegExp): string[] {
  return fleet.watchdog.lines.filter((line) => pattern.test(line));
}

/** Lines saying a member died; a healthy run has none. */
export function deaths(fleet: Fleet): string[] {
  return logLines(fleet, /has died/);
}

/** The exact answer the client prints for √value (at least one decimal, otherwise full precision). */
export function expectedResult(value: number): string {
  const root = Math.sqrt(value);
  return Number.isInteger(root) ? root.toFixed(1) : String(root);
}

export const PROMPT = "Enter a non-negative float: ";

/** Lets the event loop run (read pipes, fire callbacks) before continuing; no wall-clock wait. */
export const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Starts `./client <id> --value <value(id)>` for every id, all running at once. They are spawned in
 * small batches with a turn of the event loop in between, so this test process keeps reading the
 * fleet's log while hundreds of processes start.
 */
export async function spawnClients(fleet: Fleet, ids: readonly number[], value: (id: number) => number, extra: string[] = []): Promise<Spawned[]> {
  const clients: Spawned[] = [];
  for (const id of ids) {
    clients.push(new Spawned([binary("client"), String(id), "--value", String(value(id)), "--run-dir", fleet.runDir, ...extra]));
    if (clients.length % 10 === 0) await yieldToEventLoop();
  }
  return clients;
}
