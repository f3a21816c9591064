// The sample session of seeds/000, replayed against the compiled fleet: what the user types and
// sees in the client's terminal, and what the fleet's log says about each request.
import { describe, expect, test } from "bun:test";
import { runClient } from "@switchyard/testing";
import { PROMPT, aboutClient, cleanUpAfterEach, deaths, fleetFor, interactiveClient, logLines } from "./_support.ts";

cleanUpAfterEach();

/** Index of the first line of the fleet's log equal to `line` (stdout keeps the order the members wrote in). */
function indexOfLine(lines: readonly string[], line: string | RegExp): number {
  return lines.findIndex((l) => (typeof line === "string" ? l === line : line.test(l)));
}

describe("the seed's sample session", () => {
  test("client 107 types 16 at the prompt and gets 4.0 through Proxy #1 and one of Servers #1-#3", async () => {
    const fleet = await fleetFor();
    const client = interactiveClient(fleet, 107);

    await client.waitForText(PROMPT);
    expect(client.stdoutText).toBe(`This is client #107\n${PROMPT}`);
    client.write("16\n");
    expect(await client.exited()).toBe(0);
    expect(client.stdoutText).toBe(`This is client #107\n${PROMPT}Result: 4.0\n`);

    const serverLine = await fleet.watchdog.waitForLine(/^\[Server #\d+\]: Received the value 16 from Client #107\. Returning 4\.0\.$/);
    const n = Number(/Server #(\d+)/.exec(serverLine)?.[1]);
    expect(n).toBeGreaterThanOrEqual(1);
    expect(n).toBeLessThanOrEqual(3);

    const log = fleet.watchdog.stdoutLines;
    const lb = indexOfLine(log, "[Load Balancer]: Request from Client #107. Forwarding to Proxy #1");
    const proxy = indexOfLine(log, `[Reverse Proxy #1]: Request from Client #107. Forwarding to Server #${n}`);
    const server = indexOfLine(log, serverLine);
    expect(lb).toBeGreaterThanOrEqual(0);
    expect(proxy).toBeGreaterThan(lb);
    expect(server).toBeGreaterThan(proxy);
    // One request, one hop each: nobody else heard of client 107.
    expect(logLines(fleet, aboutClient(107))).toHaveLength(3);
    expect(deaths(fleet)).toEqual([]);
  });

  test("client 112 types 4.0 and gets 2.0 through Proxy #2 and one of Servers #4-#6", async () => {
    const fleet = await fleetFor();
    const client = interactiveClient(fleet, 112);

    await client.waitForText(PROMPT);
    client.write("4.0\n");
    expect(await client.exited()).toBe(0);
    expect(client.stdoutText).toBe(`This is client #112\n${PROMPT}Result: 2.0\n`);

    const serverLine = await fleet.watchdog.waitForLine(/^\[Server #\d+\]: Received the value 4 from Client #112\. Returning 2\.0\.$/);
    const n = Number(/Server #(\d+)/.exec(serverLine)?.[1]);
    expect(n).toBeGreaterThanOrEqual(4);
    expect(n).toBeLessThanOrEqual(6);
    const log = fleet.watchdog.stdoutLines;
    const lb = indexOfLine(log, "[Load Balancer]: Request from Client #112. Forwarding to Proxy #2");
    const proxy = indexOfLine(log, `[Reverse Proxy #2]: Request from Client #112. Forwarding to Server #${n}`);
    expect(lb).toBeGreaterThanOrEqual(0);
    expect(proxy).toBeGreaterThan(lb);
    expect(indexOfLine(log, serverLine)).toBeGreaterThan(proxy);
    expect(logLines(fleet, aboutClient(112))).toHaveLength(3);
  });

  test("client 101 types -3 and gets -1.0 from Proxy #1; no server ever sees the value", async () => {
    const fleet = await fleetFor();
    const client = interactiveClient(fleet, 101);

    await client.waitForText(PROMPT);
    client.write("-3\n");
    expect(await client.exited()).toBe(0);
    expect(client.stdoutText).toBe(`This is client #101\n${PROMPT}Result: -1.0\n`);

    await fleet.watchdog.waitForLine("[Reverse Proxy #1]: Illegal request from Client #101. Returning -1.");
    expect(logLines(fleet, /^\[Load Balancer\]: Request from Client #101\. Forwarding to Proxy #1$/)).toHaveLength(1);

    // A barrier: another odd client's request goes through the same proxy to a server, and every
    // member writes to the same pipe, so once its server line is in the log, any server line for
    // client 101 would be there too.
    const next = await runClient(["103", "--value", "9", "--run-dir", fleet.runDir]);
    expect(next.result).toBe("3.0");
    await fleet.watchdog.waitForLine(/^\[Server #[1-3]\]: Received the value 9 from Client #103\. Returning 3\.0\.$/);
    expect(logLines(fleet, /^\[Server #\d+\]:/).filter((line) => aboutClient(101).test(line))).toEqual([]);
    expect(logLines(fleet, /Forwarding to Server/).filter((line) => aboutClient(101).test(line))).toEqual([]);
  });

  test("the three clients of the sample, one after the other on one fleet, each get their answer", async () => {
    const fleet = await fleetFor();
    const answers: Array<[number, string, string]> = [
      [107, "16", "4.0"],
      [112, "4.0", "2.0"],
      [101, "-3", "-1.0"],
    ];
    for (const [id, typed, expected] of answers) {
      const client = interactiveClient(fleet, id);
      await client.waitForText(PROMPT);
      client.write(`${typed}\n`);
      expect(await client.exited()).toBe(0);
      expect(client.stdoutText).toBe(`This is client #${id}\n${PROMPT}Result: ${expected}\n`);
    }
    expect(deaths(fleet)).toEqual([]);
  });
});

describe("other ways to give the value", () => {
  test("--value 2 prints no prompt and the full-precision result 1.4142135623730951", async () => {
    const fleet = await fleetFor();
    const run = await runClient(["3", "--value", "2", "--run-dir", fleet.runDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("This is client #3\nResult: 1.4142135623730951\n");
    await fleet.watchdog.waitForLine(/^\[Server #[1-3]\]: Received the value 2 from Client #3\. Returning 1\.4142135623730951\.$/);
  });

  test("--value 16 for an even client goes through Proxy #2", async () => {
    const fleet = await fleetFor();
    const run = await runClient(["108", "--value", "16", "--run-dir", fleet.runDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe("This is client #108\nResult: 4.0\n");
    await fleet.watchdog.waitForLine("[Load Balancer]: Request from Client #108. Forwarding to Proxy #2");
    await fleet.watchdog.waitForLine(/^\[Server #[4-6]\]: Received the value 16 from Client #108\. Returning 4\.0\.$/);
  });

  test("piped input (echo 2.25 | client 5) works like typed input", async () => {
    const fleet = await fleetFor();
    const run = await runClient(["5", "--run-dir", fleet.runDir], { input: "2.25\n" });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`This is client #5\n${PROMPT}Result: 1.5\n`);
  });

  test("0 is a legal value: its square root is 0.0", async () => {
    const fleet = await fleetFor();
    const run = await runClient(["9", "--value", "0", "--run-dir", fleet.runDir]);
    expect(run.code).toBe(0);
    expect(run.result).toBe("0.0");
    await fleet.watchdog.waitForLine(/^\[Server #[1-3]\]: Received the value 0 from Client #9\. Returning 0\.0\.$/);
  });
});

describe("routing by client id", () => {
  test("odd clients always go to Proxy #1 and even clients to Proxy #2", async () => {
    const fleet = await fleetFor();
    const ids = [1, 2, 3, 4, 5, 6, 7, 8, 21, 22];
    const runs = await Promise.all(ids.map((id) => runClient([String(id), "--value", String(id * id), "--run-dir", fleet.runDir])));
    runs.forEach((run, i) => {
      expect(run.code).toBe(0);
      expect(run.result).toBe(`${ids[i]}.0`);
    });
    for (const id of ids) {
      const proxy = id % 2 === 1 ? 1 : 2;
      await fleet.watchdog.waitForLine(`[Load Balancer]: Request from Client #${id}. Forwarding to Proxy #${proxy}`);
      const range = proxy === 1 ? "[1-3]" : "[4-6]";
      await fleet.watchdog.waitForLine(new RegExp(`^\\[Server #${range}\\]: Received the value ${id * id} from Client #${id}\\.`));
    }
  });

  test("with --proxies 3, client k goes to Proxy #((k-1) mod 3)+1 and that proxy's own servers", async () => {
    const fleet = await fleetFor(["--proxies", "3", "--servers", "2"]);
    await fleet.watchdog.waitForLine("3 reverse proxies, 6 servers");
    const ids = [1, 2, 3, 4, 5, 6];
    const runs = await Promise.all(ids.map((id) => runClient([String(id), "--value", "49", "--run-dir", fleet.runDir])));
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.result).toBe("7.0");
    }
    for (const id of ids) {
      const proxy = ((id - 1) % 3) + 1;
      await fleet.watchdog.waitForLine(`[Load Balancer]: Request from Client #${id}. Forwarding to Proxy #${proxy}`);
      // Proxy #k owns Servers #(2k-1) and #2k.
      const servers = `[${2 * proxy - 1}${2 * proxy}]`;
      await fleet.watchdog.waitForLine(new RegExp(`^\\[Reverse Proxy #${proxy}\\]: Request from Client #${id}\\. Forwarding to Server #${servers}$`));
    }
  });
});
