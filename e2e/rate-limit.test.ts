// Rate limiting through the compiled flat fleet, set in the [load_balancer] table of a config file:
// HTTP clients per address get 429 with Retry-After once over their burst and recover when the
// bucket refills, other addresses unaffected; wire clients per client id get a rate_limited error.
import { expect, test } from "bun:test";
import { runClient } from "@switchyard/testing";
import { CURL, call, curl, helloFrom, skipCheck } from "./_http.ts";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

test("over the limit: 429 with Retry-After, recovery once the bucket refills, other clients served; wire clients get rate_limited", async () => {
  const file = configFile(`
[watchdog]
proxies = 0
servers = 2

[load_balancer]
rate-limit = "2/s"
rate-burst = 3
`);
  const fleet = await fleetFor(["--config", file]);
  const base = fleet.httpUrl();

  // The burst passes, the next one is refused with the time to wait.
  for (let i = 0; i < 3; i++) expect(helloFrom(await call(base, "GET", "/home"))).toBeGreaterThanOrEqual(1);
  const over = await call(base, "GET", "/home");
  expect(over.status).toBe(429);
  expect(over.headers.get("retry-after")).toBe("1");
  expect(over.json).toEqual({ message: "<Error> too many requests: over the rate limit, retry in 1 s", status: "failure" });

  // Another address has its own bucket.
  if (CURL === null) skipCheck("another address is not limited", "curl is not on PATH");
  else expect((await curl(`${base}/home`, ["--interface", "127.0.0.2"])).status).toBe(200);

  // After the wait it says, the client is served again (at most a few tries while the bucket refills).
  await Bun.sleep(1000 * Number(over.headers.get("retry-after")));
  let again = await call(base, "GET", "/home");
  for (let tries = 0; again.status === 429 && tries < 20; tries++) {
    await Bun.sleep(100);
    again = await call(base, "GET", "/home");
  }
  expect(again.status).toBe(200);

  // Wire clients are limited per client id: of 6 requests of client 7 at once, the burst (3) passes and the rest are refused by name.
  const runs = await Promise.all(Array.from({ length: 6 }, () => runClient(["7", "--value", "16", "--run-dir", fleet.runDir])));
  const refused = runs.filter((run) => run.code !== 0);
  expect(runs.filter((run) => run.result === "4.0").length).toBeGreaterThanOrEqual(3);
  expect(refused.length).toBeGreaterThanOrEqual(1);
  for (const run of refused) expect(`${run.stdout}\n${run.stderr}`).toMatch(/over its rate limit/);
  // Client 8 is someone else.
  expect((await runClient(["8", "--value", "16", "--run-dir", fleet.runDir])).code).toBe(0);
});
