// The fleet behind the HTTP API changes while users send requests: servers added with /add get
// traffic (under the proxy they were placed on), servers removed with /rm under continuous load cost
// no request, and a SIGKILLed server comes back with its name and number while requests keep
// succeeding. Who answered is read from the seed's "Hello from Server: N" and from the logs.
import { describe, expect, test } from "bun:test";
import { isAlive, pollUntil } from "@switchyard/testing";
import { type LoadResult, call, failed, helloFrom, ok, rep, repUntil, startLoad, verboseRep } from "./_http.ts";
import { cleanUpAfterEach, deaths, fleetFor, logLines } from "./_support.ts";

cleanUpAfterEach();

/** GET /home (8 at a time) until every server in `wanted` has answered; bounded by `maxRequests`. Returns who answered, in order. */
async function homeUntilAnswered(base: string, wanted: readonly number[], maxRequests = 800): Promise<number[]> {
  const answeredBy: number[] = [];
  const missing = () => wanted.filter((n) => !answeredBy.includes(n));
  while (missing().length > 0 && answeredBy.length < maxRequests) {
    const batch = await Promise.all(Array.from({ length: 8 }, () => call(base, "GET", "/home")));
    for (const answer of batch) {
      const n = helloFrom(answer);
      if (n === undefined) throw new Error(`GET /home answered ${answer.status} ${answer.text}`);
      answeredBy.push(n);
    }
  }
  if (missing().length > 0) throw new Error(`servers ${missing().join(", ")} never answered in ${answeredBy.length} requests`);
  return answeredBy;
}

/** The requests of a load run that did not get a /home answer from a server. */
function failuresOf(results: readonly LoadResult[]): string[] {
  return results.filter((r) => helloFrom({ status: r.status, json: safeJson(r.text) }) === undefined).map((r) => `${r.status} ${r.text}`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

const servedBy = (r: LoadResult) => helloFrom({ status: r.status, json: safeJson(r.text) });

describe("/add", () => {
  test('"proxy": 2 puts the new server under Reverse Proxy #2, otherwise the proxy with the fewest servers gets it, and requests reach them', async () => {
    const fleet = await fleetFor();
    const base = fleet.httpUrl();

    const onTwo = await call(base, "POST", "/add", { body: { n: 1, hostnames: ["P2"], proxy: 2 } });
    expect([onTwo.status, onTwo.json]).toEqual([200, ok({ N: 7, replicas: ["Server 1", "Server 2", "Server 3", "Server 4", "Server 5", "Server 6", "P2"] })]);
    await fleet.watchdog.waitForLine("[Watchdog]: Adding Server #7 (P2) under Reverse Proxy #2");

    // Proxy #1 now has 3 servers and Proxy #2 has 4: both new ones go to #1 (a tie goes to the lower number).
    const balanced = await call(base, "POST", "/add", { body: { n: 2, hostnames: ["A1", "A2"] } });
    expect(balanced.status).toBe(200);
    await fleet.watchdog.waitForLine("[Watchdog]: Adding Server #8 (A1) under Reverse Proxy #1");
    await fleet.watchdog.waitForLine("[Watchdog]: Adding Server #9 (A2) under Reverse Proxy #1");

    const placed = (await verboseRep(base)).filter((r) => r.n >= 7).map(({ name, n, proxy, state }) => ({ name, n, proxy, state }));
    expect(placed).toEqual([
      { name: "P2", n: 7, proxy: 2, state: "up" },
      { name: "A1", n: 8, proxy: 1, state: "up" },
      { name: "A2", n: 9, proxy: 1, state: "up" },
    ]);

    // Requests reach every new server (about 1 in 8 or 10 requests each), through the proxy it was placed under.
    const answeredBy = await homeUntilAnswered(base, [7, 8, 9]);
    expect(answeredBy.every((n) => n >= 1 && n <= 9)).toBe(true);
    await fleet.watchdog.waitForLine("[Reverse Proxy #2]: GET /home. Forwarding to Server #7");
    await fleet.watchdog.waitForLine("[Server #7]: GET /home. Returning 200.");
    await fleet.watchdog.waitForLine("[Reverse Proxy #1]: GET /home. Forwarding to Server #8");
    await fleet.watchdog.waitForLine("[Reverse Proxy #1]: GET /home. Forwarding to Server #9");
    expect(logLines(fleet, /^\[Reverse Proxy #1\]: .*Forwarding to Server #7$/)).toEqual([]);
    expect(logLines(fleet, /^\[Reverse Proxy #2\]: .*Forwarding to Server #[89]$/)).toEqual([]);
  });
});

// No --work-ms: servers answer HTTP at once whatever it says (it delays only sqrt), so the load is
// simply as fast as the fleet goes; in trial runs 3 to 5 requests were answered by a removed server
// after /rm was sent, i.e. it was removed while serving.
const TOPOLOGIES = [
  { name: "two-tier fleet", args: [] as string[], servers: 6, remove: ["Server 2", "Server 5"] },
  { name: "flat fleet (--proxies 0)", args: ["--proxies", "0"], servers: 3, remove: ["Server 2"] },
];

for (const { name, args, servers, remove } of TOPOLOGIES) {
  describe(`${name} under continuous load (8 concurrent GET /home loops)`, () => {
    test("/rm drains the removed servers: no request fails, none reaches them afterwards, and /rep shows the new N", async () => {
      const fleet = await fleetFor(args);
      const base = fleet.httpUrl();
      const before = await verboseRep(base);
      const removedNumbers = before.filter((r) => remove.includes(r.name)).map((r) => r.n);

      const load = startLoad(base, { loops: 8, perLoop: 400, maxMs: 60_000 });
      await load.waitFor(80, 30_000);
      const answer = await call(base, "DELETE", "/rm", { body: { n: remove.length, hostnames: remove } });
      const removedAt = load.now();
      // Keep the load on for as many requests again after the answer.
      await load.waitFor(load.results.length + 80, 30_000);
      const results = await load.stop();

      const left = before.map((r) => r.name).filter((n) => !remove.includes(n));
      expect([answer.status, answer.json]).toEqual([200, ok({ N: servers - remove.length, replicas: left })]);
      expect(failuresOf(results)).toEqual([]);
      // Requests started after /rm answered never reached a removed server …
      const late = results.filter((r) => r.startedMs > removedAt);
      expect(late.length).toBeGreaterThanOrEqual(40);
      expect(late.filter((r) => removedNumbers.includes(servedBy(r)!)).map(servedBy)).toEqual([]);
      // … and the removed servers did serve before (the load really covered them).
      for (const n of removedNumbers) expect(results.some((r) => servedBy(r) === n)).toBe(true);

      expect(await rep(base)).toEqual({ N: servers - remove.length, replicas: left });
      for (const r of before.filter((x) => remove.includes(x.name))) {
        await fleet.watchdog.waitForLine(`[Server #${r.n}]: Received SIGTERM from watchdog. Terminating.`);
        expect(await pollUntil(() => !isAlive(r.pid!), 5000)).toBe(true);
      }
      expect(deaths(fleet)).toEqual([]);
    });

    test("a SIGKILLed server is re-created with the same name and number, N is kept, and requests keep succeeding", async () => {
      const fleet = await fleetFor(args);
      const base = fleet.httpUrl();
      const before = await verboseRep(base);
      const victim = before.find((r) => r.name === "Server 3")!;
      expect(victim.pid).toBeNumber();

      const load = startLoad(base, { loops: 8, perLoop: 400, maxMs: 60_000 });
      await load.waitFor(80, 30_000);
      process.kill(victim.pid!, "SIGKILL");
      await fleet.watchdog.waitForLine("[Watchdog]: Server #3 has died (SIGKILL). Re-creating.");
      await fleet.watchdog.waitForLine(/^\[Watchdog\]: Server #3 is back/);
      await load.waitFor(load.results.length + 80, 30_000);
      const results = await load.stop();
      expect(failuresOf(results)).toEqual([]);

      // Same name, number and owner; a new process; one restart; N unchanged.
      // Up for the watchdog, and (flat) healthy again in the load balancer's own checks, which follow a moment later.
      const after = await repUntil(base, (rs) => rs.some((r) => r.n === 3 && r.state === "up" && r.healthy !== false), 10_000, "Server #3 up again");
      expect(after.map((r) => r.name)).toEqual(before.map((r) => r.name));
      const reborn = after.find((r) => r.n === 3)!;
      expect({ ...reborn, pid: 0 }).toEqual({ ...victim, pid: 0, restarts: 1 });
      expect(reborn.pid).not.toBe(victim.pid);
      expect(isAlive(reborn.pid!)).toBe(true);
      expect(isAlive(victim.pid!)).toBe(false);
      expect(await rep(base)).toEqual({ N: servers, replicas: before.map((r) => r.name) });

      // And it serves again.
      await homeUntilAnswered(base, [3]);
      expect(deaths(fleet)).toEqual(["[Watchdog]: Server #3 has died (SIGKILL). Re-creating."]);
    });
  });
}

// A removed server must not close while a request to it is on the way: a POST (not retried by any
// hop, as it may have run) would then fail. The router closes its connection once it has nothing in
// flight after the goaway, and the server waits for that (packages/net Listener.drained).
describe("/rm under a load no hop may retry", () => {
  test("POSTs (answered 405 by the servers) never fail while servers are removed one by one", async () => {
    const fleet = await fleetFor(["--proxies", "0", "--servers", "8"]);
    const base = fleet.httpUrl();
    const posts = startLoad(base, { loops: 8, method: "POST", perLoop: 2000, maxMs: 60_000 });
    await posts.waitFor(40, 30_000);
    for (let i = 1; i <= 6; i++) {
      const answer = await call(base, "DELETE", "/rm", { body: { n: 1, hostnames: [`Server ${i}`] } });
      expect(answer.status).toBe(200);
      await posts.waitFor(posts.results.length + 30, 30_000);
    }
    const results = await posts.stop();
    const notAllowed = JSON.stringify(failed("<Error> method POST is not allowed on '/home'"));
    expect(results.filter((r) => r.status !== 405 || r.text !== notAllowed).map((r) => `${r.status} ${r.text}`)).toEqual([]);
  });
});
