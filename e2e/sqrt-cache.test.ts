// The reverse proxies' square-root cache ([reverse_proxy] cache-entries in a config file), through
// the compiled fleet: a value asked again is answered by the proxy (its log says so, the answer
// says cached: true) without reaching a server; the answer is the same.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { openSession } from "../apps/client/src/session.ts";
import { runClient } from "@switchyard/testing";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

test("a repeated value is answered from the proxy's cache: same result, cached: true, no server asked again", async () => {
  const fleet = await fleetFor(["--config", configFile("[watchdog]\nproxies = 1\nservers = 2\n\n[reverse_proxy]\ncache-entries = 100\n")]);
  const serverLines = () => fleet.watchdog.lines.filter((line) => /\[Server #\d+\]: Received the value 16 from Client #7/.test(line));

  const first = await runClient(["7", "--value", "16", "--run-dir", fleet.runDir]);
  expect([first.code, first.result]).toEqual([0, "4.0"]);
  await fleet.watchdog.waitForLine(/\[Server #\d+\]: Received the value 16 from Client #7/);

  // Asked again, over the wire as the client does: the proxy answers, and says so.
  const peer = await openSession({ kind: "unix", path: join(fleet.runDir, "load_balancer.sock") }, 7, 10_000);
  try {
    expect(await peer.request("sqrt", { client: 7, value: 16 }, undefined, 7)).toEqual({ result: 4, cached: true });
  } finally {
    peer.close();
  }
  await fleet.watchdog.waitForLine("[Reverse Proxy #1]: Request from Client #7. Answering 16 from the cache.");
  const again = await runClient(["7", "--value", "16", "--run-dir", fleet.runDir]);
  expect([again.code, again.result]).toEqual([0, "4.0"]);
  expect(serverLines()).toHaveLength(1);

  // Another value is a miss, and reaches a server.
  expect((await runClient(["7", "--value", "2", "--run-dir", fleet.runDir])).result).toBe("1.4142135623730951");
  await fleet.watchdog.waitForLine(/\[Server #\d+\]: Received the value 2 from Client #7/);
});
