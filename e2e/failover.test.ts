// Members of the fleet die (SIGKILL, as `kill -SIGKILL <pid>` in the seed's sample): the watchdog
// logs it and brings them back with the same identity, and clients keep getting their answers.
import { describe, expect, test } from "bun:test";
import { describeClient, isAlive, runClient } from "@switchyard/testing";
import { cleanUpAfterEach, deaths, fleetFor, logLines, spawnClients } from "./_support.ts";

cleanUpAfterEach();

function pidOrThrow(pid: number | undefined, what: string): number {
  if (pid === undefined) throw new Error(`no running ${what}`);
  return pid;
}

describe("a reverse proxy is killed", () => {
  test("the watchdog logs the death and the respawn, and even clients are served again by Proxy #2", async () => {
    const fleet = await fleetFor();
    const before = pidOrThrow(fleet.pidOf("reverse_proxy --id 2"), "Reverse Proxy #2");

    process.kill(before, "SIGKILL");
    await fleet.watchdog.waitForLine("[Watchdog]: Reverse Proxy #2 has died (SIGKILL). Re-creating.");
    // Even clients that ask while it is being replaced are still answered (by Proxy #1 if need be).
    const during = await runClient(["2", "--value", "81", "--run-dir", fleet.runDir]);
    expect(during.code).toBe(0);
    expect(during.result).toBe("9.0");

    await fleet.watchdog.waitForLine(/^\[Watchdog\]: Reverse Proxy #2 is back/);
    const after = pidOrThrow(fleet.pidOf("reverse_proxy --id 2"), "Reverse Proxy #2");
    expect(after).not.toBe(before);
    expect(isAlive(before)).toBe(false);

    // Once the load balancer has reconnected, Proxy #2 serves even clients again.
    await fleet.watchdog.waitForLine("[Load Balancer]: Proxy #2 is back");
    for (const [id, value, expected] of [
      [112, "4.0", "2.0"],
      [114, "2.25", "1.5"],
      [116, "100", "10.0"],
    ] as const) {
      const run = await runClient([String(id), "--value", value, "--run-dir", fleet.runDir]);
      expect(run.code).toBe(0);
      expect(run.result).toBe(expected);
      await fleet.watchdog.waitForLine(`[Load Balancer]: Request from Client #${id}. Forwarding to Proxy #2`);
      await fleet.watchdog.waitForLine(new RegExp(`^\\[Reverse Proxy #2\\]: Request from Client #${id}\\. Forwarding to Server #[4-6]$`));
    }
    // Exactly one death: the one we caused.
    expect(deaths(fleet)).toEqual(["[Watchdog]: Reverse Proxy #2 has died (SIGKILL). Re-creating."]);
  });
});

describe("the load balancer is killed", () => {
  test("it is re-created on the same socket and new clients are served", async () => {
    const fleet = await fleetFor();
    const before = pidOrThrow(fleet.pidOf("load_balancer"), "Load Balancer");
    process.kill(before, "SIGKILL");
    await fleet.watchdog.waitForLine("[Watchdog]: Load Balancer has died (SIGKILL). Re-creating.");
    await fleet.watchdog.waitForLine(/^\[Watchdog\]: Load Balancer is back/);
    expect(fleet.pidOf("load_balancer")).not.toBe(before);

    const odd = await runClient(["7", "--value", "49", "--run-dir", fleet.runDir]);
    const even = await runClient(["8", "--value", "64", "--run-dir", fleet.runDir]);
    expect([odd.code, odd.result, even.code, even.result]).toEqual([0, "7.0", 0, "8.0"]);
  });
});

describe("a server is killed while 200 clients are being served", () => {
  test(
    "every client exits 0 with its exact answer",
    async () => {
      // Each request spends 2 s on its server, so the request seen arriving is still held when the
      // server dies, even when the log line that shows it is relayed late on a loaded machine.
      const fleet = await fleetFor(["--work-ms", "2000"]);
      const victim = pidOrThrow(fleet.pidOf("server --id 2 "), "Server #2");
      const count = 200;
      const ids = Array.from({ length: count }, (_, k) => k + 1);
      // Client i sends i², so its answer is exactly i.0; odd clients go through Proxy #1 (Servers #1-#3).
      const spawning = spawnClients(fleet, ids, (i) => i * i, ["--timeout-ms", "30000"]);

      // Kill Server #2 as soon as it holds a request, once a good share of the load has arrived.
      await fleet.watchdog.waitForLines(/^\[Reverse Proxy #\d\]: Request from Client #\d+\. Forwarding to Server #\d$/, 30, 60_000);
      const log = fleet.watchdog.lines;
      const from = log.length;
      const receivedBy2 = (line: string) => /^\[Server #2\]: Received the value/.test(line);
      await fleet.watchdog.waitFor(() => log.slice(from).some(receivedBy2), 60_000, "a new request on Server #2");
      process.kill(victim, "SIGKILL");
      const held = log.slice(from).find(receivedBy2) ?? "";
      const heldClient = Number(/Client #(\d+)/.exec(held)?.[1]);

      const clients = await spawning;
      const codes = await Promise.all(clients.map((client) => client.exited(90_000)));
      const failures = clients
        .map((client, k) => ({ i: k + 1, ...describeClient(client, codes[k] ?? null) }))
        .filter((run) => run.code !== 0 || run.result !== `${run.i}.0`)
        .map((run) => `client ${run.i}: exit ${run.code}, result ${run.result}, stderr ${run.stderr}`);
      expect(failures).toEqual([]);

      await fleet.watchdog.waitForLine("[Watchdog]: Server #2 has died (SIGKILL). Re-creating.");
      await fleet.watchdog.waitForLine(/^\[Watchdog\]: Server #2 is back/);
      expect(deaths(fleet)).toEqual(["[Watchdog]: Server #2 has died (SIGKILL). Re-creating."]);

      // The request Server #2 held when it died was answered by another server of Proxy #1:
      // this run really exercised a failure in flight, not just a quiet restart.
      await fleet.watchdog.waitForLine(new RegExp(`^\\[Server #[13]\\]: Received the value ${heldClient * heldClient} from Client #${heldClient}\\.`));
    },
    180_000,
  );
});

describe("a member that keeps crashing", () => {
  test(
    "is restarted with a logged backoff, and comes back by itself",
    async () => {
      const fleet = await fleetFor();
      // Five restarts within 10 s arm the backoff; each kill waits until the previous respawn is serving.
      let backoff: string | undefined;
      for (let round = 1; round <= 8 && backoff === undefined; round++) {
        const pid = pidOrThrow(fleet.pidOf("server --id 1 "), "Server #1");
        process.kill(pid, "SIGKILL");
        const next = await Promise.race([
          fleet.watchdog.waitForLines(/^\[Watchdog\]: Server #1 is back/, round, 20_000).then(() => undefined),
          fleet.watchdog.waitForLine(/^\[Watchdog\]: Server #1 keeps crashing/, 20_000),
        ]);
        backoff = next;
      }
      expect(backoff).toMatch(/^\[Watchdog\]: Server #1 keeps crashing \(\d+ restarts within 10 s\)\. Next restart in \d+(\.\d+)? s\.$/);
      // Counted now: the delayed restart cannot have reported back yet.
      const backs = logLines(fleet, /^\[Watchdog\]: Server #1 is back/).length;

      // Meanwhile the other servers of Proxy #1 answer odd clients.
      const run = await runClient(["11", "--value", "121", "--run-dir", fleet.runDir]);
      expect(run.code).toBe(0);
      expect(run.result).toBe("11.0");

      // After the backoff it is started again and reports ready.
      await fleet.watchdog.waitForLines(/^\[Watchdog\]: Server #1 is back/, backs + 1, 30_000);
      expect(fleet.pidOf("server --id 1 ")).toBeDefined();
    },
    90_000,
  );
});
