// Who may change the fleet: without --admin-token only loopback callers may use /add, /rm and
// /rep?verbose=1 (others get 403, and nothing changes); with it, every caller needs the bearer token
// (401 otherwise), which reaches the load balancer through its environment, never a command line.
// Plain /rep stays public. And a busy --http-port stops the whole fleet with exit status 1.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Spawned, binary, fleetPids, makeTempDir } from "@switchyard/testing";
import { CURL, call, curl, failed, helloFrom, nonLoopbackAddress, ok, portOf, rep, skipCheck, verboseRep } from "./_http.ts";
import { cleanUpAfterEach, fleetFor, logLines } from "./_support.ts";

cleanUpAfterEach();

const TOKEN = "e2e-admin-token-5f0c9a7e21d84b36";
const LOOPBACK_ONLY = failed("<Error> the admin API answers only loopback clients (start the fleet with --admin-token to allow others)");
const NEEDS_TOKEN = failed("<Error> the admin API needs Authorization: Bearer <token>");
const SIX = ["Server 1", "Server 2", "Server 3", "Server 4", "Server 5", "Server 6"];
const bearer = (token: string) => ({ authorization: `Bearer ${token}`, "content-type": "application/json" });

/** The fleet's port, reachable at 127.0.0.1 and (bound to 0.0.0.0) at `address`. */
function urls(base: string, address: string) {
  const port = portOf(base);
  return { local: `http://127.0.0.1:${port}`, remote: `http://${address}:${port}` };
}

describe("without --admin-token", () => {
  test("a caller from a non-loopback address gets 403 on /add, /rm and /rep?verbose=1, and nothing changes; /rep, /heartbeat and /home stay public", async () => {
    const address = nonLoopbackAddress();
    if (address === undefined) return skipCheck("403 for a non-loopback caller", "this machine has no non-loopback IPv4 address");
    const fleet = await fleetFor(["--http-host", "0.0.0.0"]);
    const { local, remote } = urls(fleet.httpUrl(), address);
    const before = await verboseRep(local);

    for (const [method, path, body] of [
      ["POST", "/add", { n: 1, hostnames: ["Intruder"] }],
      ["DELETE", "/rm", { n: 1, hostnames: ["Server 1"] }],
      ["GET", "/rep?verbose=1", undefined],
    ] as const) {
      const answer = await call(remote, method, path, { body });
      expect([method, path, answer.status, answer.json]).toEqual([method, path, 403, LOOPBACK_ONLY]);
    }
    const plain = await call(remote, "GET", "/rep");
    expect([plain.status, plain.json]).toEqual([200, ok({ N: 6, replicas: SIX })]);
    expect((await call(remote, "GET", "/heartbeat")).status).toBe(200);
    const home = await call(remote, "GET", "/home");
    expect(helloFrom(home)).toBeNumber();
    // The load balancer really saw this caller's own address, not loopback.
    await fleet.watchdog.waitForLine(new RegExp(`^\\[Load Balancer\\]: GET /home from ${address.replaceAll(".", "\\.")}\\. Forwarding to Proxy #\\d$`));

    // Nothing changed: same servers, same processes, nothing started or stopped.
    expect(await verboseRep(local)).toEqual(before);
    expect(logLines(fleet, /Adding|Removing/)).toEqual([]);

    // From loopback the same request is allowed: the refusal was about the caller.
    const fromLoopback = await call(local, "POST", "/add", { body: { n: 1, hostnames: ["Local"] } });
    expect([fromLoopback.status, fromLoopback.json]).toEqual([200, ok({ N: 7, replicas: [...SIX, "Local"] })]);
  });
});

describe("with --admin-token", () => {
  test("/add, /rm and /rep?verbose=1 need the bearer token, even from loopback; /rep stays public; the token is on no child's command line", async () => {
    const fleet = await fleetFor(["--admin-token", TOKEN]);
    const base = fleet.httpUrl();

    const refusals: Array<[string, string, Record<string, string>]> = [
      ["POST", "/add", {}],
      ["POST", "/add", bearer(`${TOKEN}x`)],
      ["POST", "/add", bearer(TOKEN.slice(0, -1))],
      ["POST", "/add", { authorization: `Basic ${btoa(`admin:${TOKEN}`)}` }],
      ["POST", "/add", { authorization: TOKEN }],
      ["DELETE", "/rm", {}],
      ["DELETE", "/rm", bearer("wrong-token-0123456789")],
      ["GET", "/rep?verbose=1", {}],
    ];
    for (const [method, path, headers] of refusals) {
      const answer = await call(base, method, path, { body: method === "GET" ? undefined : { n: 1 }, headers });
      expect([method, path, headers.authorization, answer.status, answer.json, answer.headers.get("www-authenticate")]).toEqual([
        method,
        path,
        headers.authorization,
        401,
        NEEDS_TOKEN,
        'Bearer realm="switchyard"',
      ]);
    }
    expect(logLines(fleet, /Adding|Removing/)).toEqual([]);
    expect(await rep(base)).toEqual({ N: 6, replicas: SIX });

    // Public: the plain /rep.
    const plain = await call(base, "GET", "/rep");
    expect([plain.status, plain.json]).toEqual([200, ok({ N: 6, replicas: SIX })]);

    // The right token changes the fleet.
    const added = await call(base, "POST", "/add", { body: { n: 1, hostnames: ["T1"] }, headers: bearer(TOKEN) });
    expect([added.status, added.json]).toEqual([200, ok({ N: 7, replicas: [...SIX, "T1"] })]);
    expect((await verboseRep(base, bearer(TOKEN))).find((r) => r.name === "T1")?.state).toBe("up");
    const removed = await call(base, "DELETE", "/rm", { body: { n: 1, hostnames: ["T1"] }, headers: bearer(TOKEN) });
    expect([removed.status, removed.json]).toEqual([200, ok({ N: 6, replicas: SIX })]);

    if (CURL === null) skipCheck("/rep?verbose=1 with the token through curl", "curl is not on PATH");
    else {
      const viaCurl = await curl(`${base}/rep?verbose=1`, ["-H", `Authorization: Bearer ${TOKEN}`]);
      expect(viaCurl.status).toBe(200);
      expect((JSON.parse(viaCurl.text) as { message: { N: number } }).message.N).toBe(6);
      const refused = await curl(`${base}/add`, ["-X", "POST", "--data", '{"n":1}']);
      expect([refused.status, refused.headers.get("www-authenticate"), JSON.parse(refused.text)]).toEqual([401, 'Bearer realm="switchyard"', NEEDS_TOKEN]);
    }

    // The load balancer got it through its environment; no member has it on its command line.
    const members = fleetPids(fleet.runDir).filter((pid) => pid !== fleet.watchdog.pid);
    expect(members.length).toBe(9);
    for (const pid of members) expect(readFileSync(`/proc/${pid}/cmdline`, "utf8")).not.toContain(TOKEN);
    const balancer = fleet.pidOf("load_balancer")!;
    expect(readFileSync(`/proc/${balancer}/environ`, "utf8").split("\0")).toContain(`SWITCHYARD_ADMIN_TOKEN=${TOKEN}`);
  });

  test("a caller from a non-loopback address may change the fleet with the token, and gets 401 (not 403) without it", async () => {
    const address = nonLoopbackAddress();
    if (address === undefined) return skipCheck("the token from a non-loopback caller", "this machine has no non-loopback IPv4 address");
    const fleet = await fleetFor(["--http-host", "0.0.0.0", "--admin-token", TOKEN, "--proxies", "0"]);
    const { remote } = urls(fleet.httpUrl(), address);

    const without = await call(remote, "POST", "/add", { body: { n: 1 } });
    expect([without.status, without.json]).toEqual([401, NEEDS_TOKEN]);
    const withToken = await call(remote, "POST", "/add", { body: { n: 1, hostnames: ["Remote"] }, headers: bearer(TOKEN) });
    expect([withToken.status, withToken.json]).toEqual([200, ok({ N: 4, replicas: ["Server 1", "Server 2", "Server 3", "Remote"] })]);
    await fleet.watchdog.waitForLine(`[Load Balancer]: /add from ${address}: now 4 replicas`);
  });

  test("a token shorter than 16 characters stops the watchdog at once (exit 64, naming the flag), before any member starts", async () => {
    const runDir = makeTempDir();
    const watchdog = new Spawned([binary("watchdog"), "--run-dir", runDir, "--http-port", "0", "--admin-token", "too-short"]);
    expect(await watchdog.exited(20_000)).toBe(64);
    expect(watchdog.output).toContain("--admin-token must be 16 to 256 printable characters");
    expect(watchdog.output).not.toContain("Creating");
    expect(fleetPids(runDir)).toEqual([]);
  });
});

describe("a busy --http-port", () => {
  test("the load balancer cannot listen, so the watchdog stops the fleet, names --http-port and exits 1, leaving no process", async () => {
    const blocker = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const runDir = makeTempDir();
      const watchdog = new Spawned([binary("watchdog"), "--run-dir", runDir, "--http-port", String(blocker.port)]);
      expect(await watchdog.exited(30_000)).toBe(1);
      // The servers and proxies had started; they were stopped, not left behind.
      expect(watchdog.lines).toContain("[Watchdog]: Creating Server #1");
      expect(watchdog.lines).toContain("[Server #1]: Received SIGTERM from watchdog. Terminating.");
      expect(watchdog.output).toContain(`--http-port ${blocker.port}: cannot listen on 127.0.0.1:${blocker.port}: the port is already in use`);
      expect(watchdog.output).not.toContain("Fleet ready");
      expect(fleetPids(runDir)).toEqual([]);
      // Not restarted into the same error: the load balancer was created once.
      expect(watchdog.lines.filter((line) => line === "[Watchdog]: Creating Load Balancer")).toHaveLength(1);
    } finally {
      blocker.stop(true);
    }
  });
});
