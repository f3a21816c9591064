// `./watchdog status`: the running fleet at a glance, as `pm2 ls` shows it, read over the
// watchdog's control socket; --json for scripts.
import { expect, test } from "bun:test";
import { Spawned, binary } from "@switchyard/testing";
import { cleanUpAfterEach, fleetFor } from "./_support.ts";

cleanUpAfterEach();

interface Status {
  processes: Array<{ role: string; n: number; name: string; pid: number | null; state: string; restarts: number; requests: number; memoryBytes: number | null }>;
  rooms: { leader: number | null };
  events: Array<{ kind: string; text: string }>;
}

async function status(runDir: string, json: boolean): Promise<string> {
  const run = new Spawned([binary("watchdog"), "status", "--run-dir", runDir, ...(json ? ["--json"] : [])]);
  expect(await run.exited(20_000)).toBe(0);
  return run.stdoutText;
}

test("watchdog status lists the 10 processes; a SIGKILLed server shows its restart and the event", async () => {
  const fleet = await fleetFor();
  const table = await status(fleet.runDir, false);
  expect(table).toMatch(/^role\s+n\s+name\s+pid\s+state\s+restarts\s+uptime\s+requests\s+errors\s+memory/);
  for (const name of ["Watchdog", "Load Balancer", "Reverse Proxy #1", "Reverse Proxy #2", "Server 1", "Server 6"]) expect(table).toContain(name);

  const before = JSON.parse(await status(fleet.runDir, true)) as Status;
  expect(before.processes.map((p) => p.role)).toEqual(["watchdog", ...Array(6).fill("server"), "reverse_proxy", "reverse_proxy", "load_balancer"]);
  expect(before.processes.every((p) => p.state === "up" && p.pid !== null && (p.memoryBytes ?? 0) > 0)).toBe(true);

  const victim = fleet.pidOf("server --id 2")!;
  process.kill(victim, "SIGKILL");
  await fleet.watchdog.waitForLine(/Server #2 is back/);
  const after = JSON.parse(await status(fleet.runDir, true)) as Status;
  const server2 = after.processes.find((p) => p.role === "server" && p.n === 2)!;
  expect(server2.restarts).toBe(1);
  expect(server2.pid).not.toBe(victim);
  expect(after.events.map((e) => e.text)).toEqual(expect.arrayContaining(["Server #2 has died", "Server #2 is back"]));
});

test("watchdog status without a running fleet: exit 1 and a message naming the run directory", async () => {
  const run = new Spawned([binary("watchdog"), "status", "--run-dir", "/tmp/switchyard-no-such-fleet"]);
  expect(await run.exited(20_000)).toBe(1);
  expect(run.stderrLines.join("\n")).toContain("no fleet answers at unix:/tmp/switchyard-no-such-fleet/watchdog.sock");
});
