// The watchdog itself dies, or a second one is started: no orphans, no stale state that blocks the
// next run, and never two watchdogs fighting over one run directory.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Fleet, Spawned, binary, fleetPids, isAlive, pollUntil, runClient } from "@switchyard/testing";
import { cleanUpAfterEach, deaths, fleetFor } from "./_support.ts";

cleanUpAfterEach();

/** A second watchdog on `runDir` (its processes are killed by the fleet's destroy, which kills by run dir). */
function watchdogOn(runDir: string, args: string[] = []): Spawned {
  return new Spawned([binary("watchdog"), "--run-dir", runDir, ...args]);
}

async function expectServing(runDir: string): Promise<void> {
  const odd = await runClient(["107", "--value", "16", "--run-dir", runDir]);
  const even = await runClient(["112", "--value", "4.0", "--run-dir", runDir]);
  expect([odd.code, odd.result, even.code, even.result]).toEqual([0, "4.0", 0, "2.0"]);
}

function memberPids(fleet: Fleet): number[] {
  return fleetPids(fleet.runDir).filter((pid) => pid !== fleet.watchdog.pid);
}

describe("the watchdog is killed with SIGKILL", () => {
  test("every member of the fleet exits on its own, promptly", async () => {
    const fleet = await fleetFor();
    const members = memberPids(fleet);
    expect(members).toHaveLength(9);

    process.kill(fleet.watchdog.pid, "SIGKILL");
    // Nothing announces "all gone" (the watchdog that would say it is dead): poll, with a deadline.
    const allGone = await pollUntil(() => fleetPids(fleet.runDir).length === 0, 3000);
    expect({ allGone, left: fleetPids(fleet.runDir) }).toEqual({ allGone: true, left: [] });
    expect(members.filter(isAlive)).toEqual([]);
  });

  test("a new watchdog on the same run directory starts over the stale pid file and socket, and serves", async () => {
    const fleet = await fleetFor();
    const pidFile = join(fleet.runDir, "watchdog.pid");
    process.kill(fleet.watchdog.pid, "SIGKILL");
    expect(await pollUntil(() => fleetPids(fleet.runDir).length === 0, 3000)).toBe(true);
    // What a crashed run leaves: its pid file (naming a dead process) and its control socket.
    expect(readFileSync(pidFile, "utf8").trim()).toBe(String(fleet.watchdog.pid));
    expect(existsSync(join(fleet.runDir, "watchdog.sock"))).toBe(true);

    const next = watchdogOn(fleet.runDir);
    await next.waitForLine("Fleet ready", 30_000);
    expect(readFileSync(pidFile, "utf8").trim()).toBe(String(next.pid));
    await expectServing(fleet.runDir);
  });

  test("after every process of the fleet was SIGKILLed at once, the stale sockets do not block a new run", async () => {
    const fleet = await fleetFor();
    const all = fleetPids(fleet.runDir);
    // Freeze everybody first (the watchdog before its children), so no member can notice a death
    // and clean up or be respawned; then kill them all: a crash, as of the whole machine's processes.
    const members = all.filter((pid) => pid !== fleet.watchdog.pid);
    for (const pid of [fleet.watchdog.pid, ...members]) process.kill(pid, "SIGSTOP");
    for (const pid of [fleet.watchdog.pid, ...members]) process.kill(pid, "SIGKILL");
    expect(await pollUntil(() => all.every((pid) => !isAlive(pid)), 3000)).toBe(true);
    for (const socket of ["load_balancer.sock", "reverse_proxy-1.sock", "server-1.sock", "watchdog.sock"]) {
      expect(existsSync(join(fleet.runDir, socket))).toBe(true);
    }

    const next = watchdogOn(fleet.runDir);
    await next.waitForLine("Fleet ready", 30_000);
    await expectServing(fleet.runDir);
  });
});

describe("a second watchdog on a run directory that is in use", () => {
  test("refuses with a message naming the running one, exits non-zero, and the first keeps serving", async () => {
    const fleet = await fleetFor();
    const before = fleetPids(fleet.runDir).sort();

    const second = watchdogOn(fleet.runDir);
    const code = await second.exited(15_000);
    expect(code).not.toBe(0);
    expect(code).not.toBeNull();
    const complaint = second.stderrLines.join("\n");
    expect(complaint).toContain("another watchdog");
    expect(complaint).toContain(`pid ${fleet.watchdog.pid}`);
    // It started nothing of its own.
    expect(second.lines.filter((line) => /Creating|Fleet ready/.test(line))).toEqual([]);

    await expectServing(fleet.runDir);
    expect(fleetPids(fleet.runDir).sort()).toEqual(before);
    expect(readFileSync(join(fleet.runDir, "watchdog.pid"), "utf8").trim()).toBe(String(fleet.watchdog.pid));
    expect(deaths(fleet)).toEqual([]);
  });
});
