// What a user sees when they give the client something wrong, or when there is no fleet.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { makeTempDir, runClient } from "@switchyard/testing";
import { PROMPT, cleanUpAfterEach, fleetFor, interactiveClient } from "./_support.ts";

cleanUpAfterEach();

describe("a client id that is not a positive integer", () => {
  for (const id of ["0", "-5", "abc", "1.5"]) {
    test(`client ${id}: usage error, exit 64, a message about the id`, async () => {
      // No fleet needed: the id is checked before anything is sent (an empty run dir proves it).
      const run = await runClient([id, "--value", "4", "--run-dir", makeTempDir()], { timeoutMs: 10_000 });
      expect(run.code).toBe(64);
      expect(run.stdout).toBe("");
      // The message says what is wrong with what the user typed, and where to look for usage.
      expect(run.stderr).toMatch(/client id/i);
      expect(run.stderr).toContain(`"${id}"`);
      expect(run.stderr).toContain("--help");
    });
  }

  test("no id at all: usage error, exit 64", async () => {
    const run = await runClient(["--value", "4", "--run-dir", makeTempDir()]);
    expect(run.code).toBe(64);
    expect(run.stderr).toMatch(/\bid\b/i);
    expect(run.stderr).toContain("--help");
  });
});

describe("typed input", () => {
  test("a non-numeric line gets a clear message and a new prompt; then a number gets its result", async () => {
    const fleet = await fleetFor();
    const client = interactiveClient(fleet, 7);
    await client.waitForText(PROMPT);

    client.write("sixteen\n");
    await client.waitForText(PROMPT, 20_000, 2);
    expect(client.stdoutText).toBe(`This is client #7\n${PROMPT}"sixteen" is not a number. Type a value such as 16 or 2.25.\n${PROMPT}`);

    client.write("16\n");
    expect(await client.exited()).toBe(0);
    expect(client.stdoutLines.at(-1)).toBe(`${PROMPT}Result: 4.0`);
    // The rejected line never left the client.
    expect(fleet.watchdog.lines.filter((line) => line.includes("sixteen"))).toEqual([]);
    await fleet.watchdog.waitForLine(/^\[Server #[1-3]\]: Received the value 16 from Client #7\. Returning 4\.0\.$/);
  });

  test("several bad lines (empty, 1,5, 4x, nan, inf), each re-prompted, then 2.25 gives 1.5", async () => {
    const fleet = await fleetFor();
    const run = await runClient(["9", "--run-dir", fleet.runDir], { input: "\n1,5\n4x\nnan\ninf\n2.25\n" });
    expect(run.code).toBe(0);
    expect(run.stdout.split(PROMPT)).toHaveLength(7);
    expect(run.stdout).toContain('"1,5" is not a number');
    expect(run.stdout).toContain('"4x" is not a number');
    expect(run.result).toBe("1.5");
  });

  test("end of input before any value: exit 1, no request sent", async () => {
    const fleet = await fleetFor();
    const client = interactiveClient(fleet, 11);
    await client.waitForText(PROMPT);
    client.endInput();
    expect(await client.exited()).toBe(1);
    expect(client.stderrLines.join("\n")).toMatch(/input ended/i);
    expect(client.stdoutText).not.toContain("Result");
    expect(fleet.watchdog.lines.filter((line) => /Client #11(?!\d)/.test(line))).toEqual([]);
  });

  test("end of input after only bad lines: exit 1", async () => {
    const fleet = await fleetFor();
    const run = await runClient(["13", "--run-dir", fleet.runDir], { input: "abc\n" });
    expect(run.code).toBe(1);
    expect(run.result).toBeUndefined();
  });

  test("--value that is not a number: usage error, exit 64, before connecting", async () => {
    const run = await runClient(["3", "--value", "four", "--run-dir", makeTempDir()]);
    expect(run.code).toBe(64);
    expect(run.stderr).toContain('"four"');
  });
});

describe("no fleet running", () => {
  test("a message naming the socket and suggesting ./watchdog, exit 2, within 3 s", async () => {
    const runDir = makeTempDir();
    const run = await runClient(["107", "--value", "16", "--run-dir", runDir], { timeoutMs: 10_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(join(runDir, "load_balancer.sock"));
    expect(run.stderr).toContain("./watchdog");
    expect(run.elapsedMs).toBeLessThan(3000);
  });

  test("the same when the user would have typed the value (no prompt is shown for a fleet that is not there)", async () => {
    const runDir = makeTempDir();
    const run = await runClient(["107", "--run-dir", runDir], { input: "16\n", timeoutMs: 10_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(join(runDir, "load_balancer.sock"));
    expect(run.elapsedMs).toBeLessThan(3000);
  });

  test("--connect to a TCP port nobody listens on: exit 2 with the address in the message, within 3 s", async () => {
    const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = listener.port;
    listener.stop(true);
    const run = await runClient(["107", "--value", "16", "--connect", `tcp://127.0.0.1:${port}`], { timeoutMs: 10_000 });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`127.0.0.1:${port}`);
    expect(run.elapsedMs).toBeLessThan(3000);
  });
});
