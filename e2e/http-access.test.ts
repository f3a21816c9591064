// Allow and deny lists of client addresses, for the front door and separately for the admin API,
// set in the [load_balancer] table of a config file, through the compiled flat fleet. Clients
// come from different loopback addresses (127.0.0.1 and, with curl --interface, 127.0.0.2).
import { expect, test } from "bun:test";
import { CURL, call, curl, failed, helloFrom, skipCheck } from "./_http.ts";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

test("--allow admits a block, --deny refuses inside it (deny wins), and --admin-allow replaces loopback-only for the admin API", async () => {
  const file = configFile(`
[watchdog]
proxies = 0
servers = 2

[load_balancer]
allow = ["127.0.0.0/8", "::1"]
deny = ["127.0.0.2"]
admin-allow = ["10.9.9.9"]
`);
  const fleet = await fleetFor(["--config", file]);
  const base = fleet.httpUrl();

  // 127.0.0.1 is inside --allow and not denied: served.
  expect(helloFrom(await call(base, "GET", "/home"))).toBeGreaterThanOrEqual(1);
  // The admin API answers only --admin-allow now, loopback included: 403, and nothing changes.
  const add = await call(base, "POST", "/add", { body: { n: 1 } });
  expect([add.status, add.json]).toEqual([403, failed("<Error> the admin API does not answer this address (--admin-allow)")]);
  expect((await call(base, "GET", "/rep")).json).toMatchObject({ message: { N: 2 } });

  if (CURL === null) {
    skipCheck("a client from 127.0.0.2 is refused", "curl is not on PATH");
    return;
  }
  // 127.0.0.2 is inside --allow too, but --deny names it: refused on sight with 403, and logged.
  const denied = await curl(`${base}/home`, ["--interface", "127.0.0.2"]);
  expect(denied.status).toBe(403);
  expect(JSON.parse(denied.text)).toEqual(failed("<Error> access denied"));
  await fleet.watchdog.waitForLine(/\[Load Balancer\]: HTTP front door: 1 connection\(s\) from addresses --allow\/--deny refuse \(403\), such as 127\.0\.0\.2/);
  // Another address of the block is fine.
  expect((await curl(`${base}/home`, ["--interface", "127.0.0.3"])).status).toBe(200);
});
