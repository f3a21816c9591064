// The rooms group's elections (seeds/004's three scenarios) with servers started by hand, as the
// seed did, sharing a run directory (the group's registry): each logs the seed's lines.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { Spawned, binary, makeTempDir } from "@switchyard/testing";
import { cleanUpAfterEach } from "./_support.ts";

cleanUpAfterEach();

function startServer(dir: string, n: number, electionId: number): Spawned {
  return new Spawned([binary("server"), "--id", String(n), "--election-id", String(electionId), "--run-dir", dir, "--data-dir", join(dir, "data"), "--heartbeat-timeout-ms", "500"]);
}

const leaderOf = (server: Spawned) => {
  const line = server.lines.findLast((l) => l.includes("Election completed. Group Leader: "));
  return line === undefined ? undefined : Number(/Group Leader: (\d+)/.exec(line)![1]);
};

test("(a) a lower id learns it is not the leader, (b) the highest id takes over, (c) a killed leader is replaced after a failed heartbeat", async () => {
  const dir = makeTempDir();
  const first = startServer(dir, 1, 41220);
  await first.waitForLine("[Server #1]: Server 41220 started");
  await first.waitForLine("[Server #1]: 41220 is running an election initiated by 0");
  await first.waitForLine("[Server #1]: Election completed. Group Leader: 41220");

  // (a) A lower id: it runs an election, and the leader stays 41220 for both.
  const second = startServer(dir, 2, 9152);
  await second.waitForLine("[Server #2]: 9152 is running an election initiated by 0");
  await first.waitForLine("[Server #1]: 41220 is running an election initiated by 9152");
  await second.waitForLine("[Server #2]: Election completed. Group Leader: 41220");
  expect(leaderOf(first)).toBe(41220);

  // (b) The highest id: every server ends with it as the leader.
  const third = startServer(dir, 3, 45000);
  await third.waitForLine("[Server #3]: Election completed. Group Leader: 45000");
  await first.waitForLine("[Server #1]: Election completed. Group Leader: 45000");
  await second.waitForLine("[Server #2]: Election completed. Group Leader: 45000");
  await first.waitForLine("[Server #1]: 41220 is running an election initiated by 45000");

  // (c) The leader dies: a heartbeat to it fails, an election follows, 41220 leads again.
  third.kill("SIGKILL");
  await third.exited(10_000);
  const failed = await Promise.race([
    first.waitForLine(/\[Server #1\]: Heartbeat to group leader 45000 failed/),
    second.waitForLine(/\[Server #2\]: Heartbeat to group leader 45000 failed/),
  ]);
  expect(failed).toMatch(/Heartbeat to group leader 45000 failed/);
  await first.waitForLines(/\[Server #1\]: Election completed. Group Leader: 41220/, 2);
  await second.waitForLines(/\[Server #2\]: Election completed. Group Leader: 41220/, 2);
});
