// Stopping the fleet (seeds/000, Note #2): servers first, then the reverse proxies, then the load
// balancer, each logging its SIGTERM; the watchdog says good-bye last, exits 0, and leaves nothing.
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { type Fleet, Spawned, binary, fleetPids, runClient } from "@switchyard/testing";
import { cleanUpAfterEach, fleetFor } from "./_support.ts";

cleanUpAfterEach();

const GOOD_BYE = "[Watchdog]: All processes terminated. Good bye.";
const SIGNAL_WORDS = { SIGTSTP: "SIGTSTP from user", SIGINT: "SIGINT from user", SIGTERM: "SIGTERM" } as const;
type StopSignal = keyof typeof SIGNAL_WORDS;

/** Positions in the watchdog's stdout of each member's "Received SIGTERM from watchdog" line. */
function terminationOrder(fleet: Fleet) {
  const out = fleet.watchdog.stdoutLines;
  const at = (pattern: RegExp) => out.flatMap((line, i) => (pattern.test(line) ? [{ line, i }] : []));
  return {
    servers: at(/^\[Server #[1-6]\]: Received SIGTERM from watchdog\. Terminating\.$/),
    proxies: at(/^\[Reverse Proxy #[12]\]: Received SIGTERM from watchdog\. Terminating\.$/),
    balancer: at(/^\[Load Balancer\]: Received SIGTERM from watchdog\. Terminating\.$/),
  };
}

/** Everything a user must see after stopping the fleet, checked once the watchdog has exited. */
async function expectOrderedShutdown(fleet: Fleet, signal: StopSignal): Promise<void> {
  expect(await fleet.watchdog.exited(30_000)).toBe(0);
  const out = fleet.watchdog.stdoutLines;
  expect(out).toContain(`[Watchdog]: Received ${SIGNAL_WORDS[signal]}. Terminating all processes.`);

  const { servers, proxies, balancer } = terminationOrder(fleet);
  // Each member exactly once: six servers, two proxies, one load balancer.
  expect(servers.map((s) => s.line.slice(0, 11)).sort()).toEqual(["[Server #1]", "[Server #2]", "[Server #3]", "[Server #4]", "[Server #5]", "[Server #6]"]);
  expect(proxies.map((p) => p.line.slice(0, 18)).sort()).toEqual(["[Reverse Proxy #1]", "[Reverse Proxy #2]"]);
  expect(balancer).toHaveLength(1);

  const lastServer = Math.max(...servers.map((s) => s.i));
  const firstProxy = Math.min(...proxies.map((p) => p.i));
  const lastProxy = Math.max(...proxies.map((p) => p.i));
  expect(lastServer).toBeLessThan(firstProxy);
  expect(lastProxy).toBeLessThan(balancer[0]!.i);
  expect(out.at(-1)).toBe(GOOD_BYE);

  // Every member left on its own after SIGTERM: none had to be killed, none was "re-created".
  expect(fleet.watchdog.lines.filter((line) => /did not exit|Killing|has died|Re-creating/.test(line))).toEqual([]);
  expect(fleetPids(fleet.runDir)).toEqual([]);
  // No stale socket or pid file is left for the next run to clean up.
  expect(readdirSync(fleet.runDir)).toEqual([]);
}

describe("the watchdog receives a stop signal", () => {
  for (const signal of ["SIGTSTP", "SIGINT", "SIGTERM"] as const) {
    test(`${signal}: servers, then proxies, then the load balancer, then good-bye; exit 0 and nothing left`, async () => {
      const fleet = await fleetFor();
      // A request first, so the shutdown also closes live connections between the hops.
      const run = await runClient(["107", "--value", "16", "--run-dir", fleet.runDir]);
      expect(run.result).toBe("4.0");

      process.kill(fleet.watchdog.pid, signal);
      await expectOrderedShutdown(fleet, signal);
    });
  }
});

describe("Ctrl-Z and Ctrl-C typed in the watchdog's terminal", () => {
  // The terminal sends these to the whole foreground process group, not to one pid.
  for (const signal of ["SIGTSTP", "SIGINT"] as const) {
    test(`${signal} to the watchdog's process group gives the same ordered shutdown`, async () => {
      const fleet = await fleetFor([], { detached: true });
      process.kill(-fleet.watchdog.pid, signal);
      await expectOrderedShutdown(fleet, signal);
    });
  }
});

describe("requests in flight when the fleet is stopped", () => {
  test("are answered before the servers exit", async () => {
    // Each request takes 1.5 s on its server: long enough to still be in flight when SIGTSTP arrives.
    const fleet = await fleetFor(["--work-ms", "1500"]);
    const clients = [3, 4].map((id) => new Spawned([binary("client"), String(id), "--value", String(id * id), "--run-dir", fleet.runDir]));
    await fleet.watchdog.waitForLine(/^\[Server #[1-3]\]: Received the value 9 from Client #3\./);
    await fleet.watchdog.waitForLine(/^\[Server #[4-6]\]: Received the value 16 from Client #4\./);

    process.kill(fleet.watchdog.pid, "SIGTSTP");
    const [odd, even] = await Promise.all(clients.map((client) => client.exited(30_000)));
    expect([odd, even]).toEqual([0, 0]);
    expect(clients.map((client) => client.stdoutLines.at(-1))).toEqual(["Result: 3.0", "Result: 4.0"]);
    await expectOrderedShutdown(fleet, "SIGTSTP");
  });

  test("a client arriving after the fleet stopped gets a clear 'no fleet' error, not a hang", async () => {
    const fleet = await fleetFor();
    process.kill(fleet.watchdog.pid, "SIGTERM");
    await expectOrderedShutdown(fleet, "SIGTERM");
    const run = await runClient(["5", "--value", "4", "--run-dir", fleet.runDir], { timeoutMs: 10_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("./watchdog");
  });
});
