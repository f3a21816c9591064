// A paused leader (SIGSTOP) through the compiled binaries, servers started by hand: the others
// elect a new leader; when the old one resumes (SIGCONT) with a write waiting for it, it is refused
// by the newer epoch and steps down; whatever was confirmed is the same on every server.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { Peer, parseAddress } from "@switchyard/net";
import { Spawned, binary, makeTempDir } from "@switchyard/testing";
import { cleanUpAfterEach } from "./_support.ts";

cleanUpAfterEach();

interface Snapshot {
  version: number;
  epoch: number;
  reservations: Array<{ room: string; slot: string; day: string }>;
}

test("SIGSTOP the leader until another is elected, then SIGCONT: it steps down, and no write of its old epoch is accepted", async () => {
  const dir = makeTempDir();
  const servers = [1, 2, 3].map(
    (n) => new Spawned([binary("server"), "--id", String(n), "--election-id", String(100 * n), "--run-dir", dir, "--data-dir", join(dir, "data"), "--heartbeat-timeout-ms", "500"]),
  );
  const [, second, third] = servers as [Spawned, Spawned, Spawned];
  for (const server of servers) await server.waitForLine(/Election completed\. Group Leader: 300/);
  const peer = (n: number) => new Peer({ address: parseAddress(`unix:${join(dir, `server-${n}.sock`)}`), role: "client", id: 7, timeoutMs: 10_000 });
  const reserve = (p: Peer, seq: number, slot: string) => p.request("rooms", { client: 7, session: "pause", seq, cmd: "reserve", room: "SA318", slot, day: "Monday" }, 10_000, 7);
  /** As a client does: retried with the same key while the group is between leaders. */
  const reserveRetrying = async (p: Peer, seq: number, slot: string) => {
    const deadline = performance.now() + 10_000;
    for (;;) {
      try {
        return await reserve(p, seq, slot);
      } catch (error) {
        if (performance.now() > deadline) throw error;
        await Bun.sleep(50);
      }
    }
  };

  const toLeader = peer(3);
  expect(await reserveRetrying(toLeader, 1, "8:30-9:30")).toMatchObject({ lines: ["Reservation confirmed"] });

  // Paused: the others' heartbeats fail and 200 becomes the leader.
  third.kill("SIGSTOP");
  await second.waitForLine(/Election completed\. Group Leader: 200/);
  const toNew = peer(2);
  expect(await reserveRetrying(toNew, 2, "9:30-10:30")).toMatchObject({ lines: ["Reservation confirmed"] });

  // A write waits in the paused leader's socket; it resumes and is refused by the newer epoch.
  const waiting = reserve(toLeader, 3, "10:30-11:30").then(
    (answer) => ({ answer }),
    (error: Error) => ({ error: error.message }),
  );
  third.kill("SIGCONT");
  await third.waitForLine(/Server 300 steps down as group leader/);
  const outcome = await waiting;

  // Whatever happened to that write, every server ends with the same reservations and epoch as the others.
  const copies = async () =>
    Promise.all(
      [1, 2, 3].map(async (n) => {
        const p = peer(n);
        try {
          return (await p.request("group.sync", {}, 5000)) as Snapshot;
        } finally {
          p.close();
        }
      }),
    );
  let states = await copies();
  const deadline = performance.now() + 10_000;
  while (new Set(states.map((s) => JSON.stringify([s.version, s.reservations]))).size > 1 && performance.now() < deadline) {
    await Bun.sleep(100);
    states = await copies();
  }
  expect(new Set(states.map((s) => JSON.stringify([s.version, s.reservations]))).size).toBe(1);
  const slots = states[0]!.reservations.map((r) => r.slot).sort();
  expect(slots).toContain("8:30-9:30");
  expect(slots).toContain("9:30-10:30");
  // Confirmed (by whoever led when it ran) means present everywhere; refused means the client was told to retry.
  if ("answer" in outcome) expect(slots).toContain("10:30-11:30");
  else expect(outcome.error).toMatch(/retry|leader/);
  toLeader.close();
  toNew.close();
});
