// The rooms client of seeds/004 through the compiled fleet: the seed's session prints the seed's
// answers, from the servers or from the cache exactly where the seed shows them; a reservation is
// seen by another client; a slot is booked once; only its owner cancels it.
import { expect, test } from "bun:test";
import { Spawned, binary } from "@switchyard/testing";
import { cleanUpAfterEach, fleetFor, logLines } from "./_support.ts";

cleanUpAfterEach();

/** `./client ID --rooms` fed these lines; its whole stdout once it exits. */
async function session(runDir: string, id: number, lines: string[]): Promise<string> {
  const client = new Spawned([binary("client"), String(id), "--rooms", "--run-dir", runDir], { stdin: "pipe" });
  client.write(`${lines.join("\n")}\n`);
  client.endInput();
  expect(await client.exited(30_000)).toBe(0);
  return client.stdoutText;
}

/** Where each answer came from, in order. */
const sources = (out: string) => [...out.matchAll(/\((From servers|From cache|Error)\): /g)].map((m) => m[1]);

test("the seed's session: the same answers, from the servers or the cache exactly where the seed shows", async () => {
  const fleet = await fleetFor();
  const out = await session(fleet.runDir, 107, ["rooms", "timeslots", "check ME4326", "rooms", "days", "reserve ME4326 8:30-9:30 Friday", "check ME4326", "days", "quit"]);
  expect(out.split("\n").filter((line) => line.includes("(Error)"))).toEqual([]);
  expect(sources(out)).toEqual(["From servers", "From servers", "From servers", "From cache", "From servers", "From servers", "From servers", "From cache", "From servers"]);
  expect(out).toStartWith("Next command: (From servers): SA318\nME4494\nSA314\nMC5050\nME4326\nSA412\nNext command: (From servers): 8:30-9:30\n");
  expect(out).toContain("Next command: (From servers): No room reservation found\n");
  expect(out).toContain("Next command: (From servers): Reservation confirmed\nNext command: (From servers): ME4326 8:30-9:30 Friday\n");
  expect(out).toEndWith("Next command: (From servers): bye\n");

  // Another client sees it, cannot book it again, and cannot cancel it; its owner can.
  const other = await session(fleet.runDir, 108, ["check ME4326", "reserve ME4326 8:30-9:30 Friday", "cancel ME4326 8:30-9:30 Friday", "quit"]);
  expect(other).toContain("(From servers): ME4326 8:30-9:30 Friday\n");
  expect(other).toContain("(From servers): ME4326 is already reserved at 8:30-9:30 on Friday\n");
  expect(other).toContain("(From servers): Only the client that reserved ME4326 at 8:30-9:30 on Friday can cancel it\n");
  const owner = await session(fleet.runDir, 107, ["cancel ME4326 8:30-9:30 Friday", "check ME4326", "bogus", "check XX1", "quit"]);
  expect(owner).toContain("(From servers): Reservation cancelled\nNext command: (From servers): No room reservation found\n");
  expect(owner).toContain('unknown command "bogus"');
  expect(owner).toContain('unknown room "XX1"');
});

test("--no-rooms: the fleet balances without the group, and the rooms client says why it cannot book", async () => {
  const fleet = await fleetFor(["--no-rooms"]);
  expect(logLines(fleet, /Election completed/)).toEqual([]);
  const out = await session(fleet.runDir, 107, ["rooms", "quit"]);
  expect(out).toContain("(Error): ");
  expect(out).toContain("--no-rooms");
});

test("the staleness bound: another client's reservation is seen from the cache no longer than --cache-ttl-ms", async () => {
  const fleet = await fleetFor();
  const ttlMs = 1000;
  const watcher = new Spawned([binary("client"), "107", "--rooms", "--cache-ttl-ms", String(ttlMs), "--run-dir", fleet.runDir], { stdin: "pipe" });
  const ask = async (line: string, times: number) => {
    watcher.write(`${line}\n`);
    await watcher.waitForText("Next command: ", 30_000, times + 1);
  };
  await watcher.waitForText("Next command: ");
  await ask("check SA412", 1);
  const cachedAt = performance.now();
  await session(fleet.runDir, 108, ["reserve SA412 19:30-21:00 Monday", "quit"]);
  await ask("check SA412", 2);
  const staleFor = performance.now() - cachedAt;
  // Within the TTL the old answer may still be shown; once it has passed, never.
  await Bun.sleep(Math.max(0, ttlMs - staleFor) + 50);
  await ask("check SA412", 3);
  watcher.write("quit\n");
  watcher.endInput();
  expect(await watcher.exited(30_000)).toBe(0);
  const answers = watcher.stdoutText.split("Next command: ").slice(1, 4);
  expect(answers[0]).toBe("(From servers): No room reservation found\n");
  if (staleFor < ttlMs) expect(answers[1]).toBe("(From cache): No room reservation found\n");
  expect(answers[2]).toBe("(From servers): SA412 19:30-21:00 Monday\n");
});
