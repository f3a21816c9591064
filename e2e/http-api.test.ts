// The load balancer's HTTP API of seeds/002 (Tasks 1 and 3) through the compiled fleet, in both
// topologies: the two-tier default (load balancer → 2 reverse proxies → 6 servers) and the flat one
// (--proxies 0: load balancer → 3 servers). The same requests get the same answers, status codes
// and JSON bodies exactly; a refused change leaves every process as it was.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { isAlive, pollUntil } from "@switchyard/testing";
import { CURL, type VerboseReplica, call, curl, failed, hello, helloFrom, ok, rep, skipCheck, verboseRep } from "./_http.ts";
import { cleanUpAfterEach, fleetFor, logLines } from "./_support.ts";

cleanUpAfterEach();

const TOPOLOGIES = [
  { name: "two-tier fleet (2 reverse proxies × 3 servers)", args: [] as string[], proxies: 2, servers: 6 },
  { name: "flat fleet (--proxies 0, 3 servers)", args: ["--proxies", "0"], proxies: 0, servers: 3 },
];

const names = (count: number) => Array.from({ length: count }, (_, i) => `Server ${i + 1}`);

for (const topology of TOPOLOGIES) {
  const { proxies, servers } = topology;
  /** The proxy that owns Server #n at start (Reverse Proxy #k owns #(k-1)·3+1 … #k·3), 0 when flat. */
  const ownerOf = (n: number) => (proxies === 0 ? 0 : Math.ceil(n / 3));

  describe(topology.name, () => {
    test("GET /rep, /rep?verbose=1, /heartbeat, /home and an unknown path answer exactly", async () => {
      const fleet = await fleetFor(topology.args);
      const base = fleet.httpUrl();

      const replicas = await call(base, "GET", "/rep");
      expect(replicas.status).toBe(200);
      expect(replicas.headers.get("content-type")).toStartWith("application/json");
      expect(replicas.json).toEqual(ok({ N: servers, replicas: names(servers) }));

      // The detailed form: every server with its number, owner, live pid and socket.
      const detailed = await verboseRep(base);
      expect(detailed.map(({ pid: _pid, ...rest }) => rest)).toEqual(
        Array.from({ length: servers }, (_, i) => ({
          name: `Server ${i + 1}`,
          n: i + 1,
          proxy: ownerOf(i + 1),
          state: "up",
          address: `unix:${join(fleet.runDir, `server-${i + 1}.sock`)}`,
          restarts: 0,
          // Only the flat load balancer checks the servers itself, so only it reports their health.
          ...(proxies === 0 ? { healthy: true } : {}),
        })),
      );
      for (const replica of detailed) expect(replica.pid).toBe(fleet.pidOf(`server --id ${replica.n} `)!);

      const heartbeat = await call(base, "GET", "/heartbeat");
      expect([heartbeat.status, heartbeat.text]).toEqual([200, ""]);

      // /home is answered by a server, which logs it: the answer really came through the fleet.
      const home = await call(base, "GET", "/home");
      expect(home.status).toBe(200);
      expect(home.headers.get("content-type")).toStartWith("application/json");
      const n = helloFrom(home);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(servers);
      expect(home.json).toEqual(hello(n!));
      await fleet.watchdog.waitForLine(`[Server #${n}]: GET /home. Returning 200.`);
      const routed = proxies === 0 ? `[Load Balancer]: GET /home from 127.0.0.1. Forwarding to Server #${n}` : `. Forwarding to Server #${n}`;
      await fleet.watchdog.waitForLine(proxies === 0 ? routed : new RegExp(`^\\[Reverse Proxy #${ownerOf(n!)}\\]: GET /home\\. Forwarding to Server #${n}$`));

      // Any path a server does not have: the seed's error, naming the path without its query.
      for (const path of ["/other", "/other?x=1", "/home/x"]) {
        const other = await call(base, "GET", path);
        const bare = path.split("?")[0];
        expect([other.status, other.json]).toEqual([400, failed(`<Error> '${bare}' endpoint does not exist in server replicas`)]);
      }
      // A server's endpoint with a method it does not take.
      const post = await call(base, "POST", "/home", { body: "x" });
      expect([post.status, post.json, post.headers.get("allow")]).toEqual([405, failed("<Error> method POST is not allowed on '/home'"), "GET, HEAD"]);

      if (CURL === null) skipCheck("GET /rep and /other with curl", "curl is not on PATH");
      else {
        const viaCurl = await curl(`${base}/rep`);
        expect([viaCurl.status, JSON.parse(viaCurl.text)]).toEqual([200, ok({ N: servers, replicas: names(servers) })]);
        const otherViaCurl = await curl(`${base}/other`);
        expect([otherViaCurl.status, JSON.parse(otherViaCurl.text)]).toEqual([400, failed("<Error> '/other' endpoint does not exist in server replicas")]);
      }
    });

    test("/add and /rm answer the seed's JSON, and the servers really start and stop", async () => {
      const fleet = await fleetFor(topology.args);
      const base = fleet.httpUrl();

      // The seed's /add example: four named servers, appended in the order given.
      const added = await call(base, "POST", "/add", { body: { n: 4, hostnames: ["S5", "S4", "S10", "S11"] } });
      expect([added.status, added.json]).toEqual([200, ok({ N: servers + 4, replicas: [...names(servers), "S5", "S4", "S10", "S11"] })]);
      const afterAdd = await verboseRep(base);
      const newcomers = afterAdd.filter((r) => ["S5", "S4", "S10", "S11"].includes(r.name));
      // Numbered after the initial servers, each serving (state up, a live process).
      expect(newcomers.map((r) => [r.name, r.n, r.state])).toEqual([
        ["S5", servers + 1, "up"],
        ["S4", servers + 2, "up"],
        ["S10", servers + 3, "up"],
        ["S11", servers + 4, "up"],
      ]);
      for (const r of newcomers) expect(isAlive(r.pid!)).toBe(true);
      await fleet.watchdog.waitForLine(`[Server #${servers + 1}]: Started as S5.`);
      await fleet.watchdog.waitForLine(`[Load Balancer]: /add from 127.0.0.1: now ${servers + 4} replicas`);

      // The seed's /rm example: the two named ones and one chosen at random.
      const removed = await call(base, "DELETE", "/rm", { body: { n: 3, hostnames: ["S5", "S4"] } });
      expect(removed.status).toBe(200);
      const left = (removed.json as { message: { N: number; replicas: string[] } }).message;
      expect(left.N).toBe(servers + 1);
      expect(left.replicas).toHaveLength(servers + 1);
      expect(left.replicas).not.toContain("S5");
      expect(left.replicas).not.toContain("S4");
      const before = [...names(servers), "S10", "S11"];
      const randomlyRemoved = before.filter((name) => !left.replicas.includes(name));
      expect(randomlyRemoved).toHaveLength(1);
      // The rest keep their order.
      expect(left.replicas).toEqual(before.filter((name) => name !== randomlyRemoved[0]));
      expect(removed.json).toEqual(ok(left));
      expect(await rep(base)).toEqual(left);
      // Their processes are gone (they were drained and stopped before the answer).
      const gone = afterAdd.filter((r) => ["S5", "S4", randomlyRemoved[0]].includes(r.name));
      expect(gone).toHaveLength(3);
      expect(await pollUntil(() => gone.every((r) => !isAlive(r.pid!)), 5000)).toBe(true);

      // Without hostnames the names are random, like a container's.
      const unnamed = await call(base, "POST", "/add", { body: { n: 2 } });
      expect(unnamed.status).toBe(200);
      const grown = (unnamed.json as { message: { N: number; replicas: string[] } }).message;
      expect(grown.N).toBe(servers + 3);
      expect(grown.replicas.slice(0, servers + 1)).toEqual(left.replicas);
      const fresh = grown.replicas.slice(servers + 1);
      expect(fresh).toHaveLength(2);
      for (const name of fresh) expect(name).toMatch(/^S-[a-z0-9]{6}$/);
      expect(new Set(fresh).size).toBe(2);

      // And without hostnames /rm picks at random.
      const shrunk = await call(base, "DELETE", "/rm", { body: { n: 2 } });
      expect(shrunk.status).toBe(200);
      const final = (shrunk.json as { message: { N: number; replicas: string[] } }).message;
      expect(final.N).toBe(servers + 1);
      expect(final.replicas.every((name) => grown.replicas.includes(name))).toBe(true);
      expect(await rep(base)).toEqual(final);
      // Every remaining replica is a running process; no member died along the way.
      const now = await verboseRep(base);
      expect(now.map((r) => r.name)).toEqual(final.replicas);
      for (const r of now) expect([r.state, isAlive(r.pid!)]).toEqual(["up", true]);
      expect(logLines(fleet, /has died/)).toEqual([]);
    });

    test("every refused /add and /rm answers its status and exact message, and changes nothing", async () => {
      const fleet = await fleetFor(topology.args);
      const base = fleet.httpUrl();
      const snapshot = await verboseRep(base);
      const logFrom = fleet.watchdog.lines.length;

      const INVALID_N = "<Error> n must be a positive integer";
      const cases: Array<{ method: string; path: string; body?: unknown; status: number; message: string | RegExp; allow?: string }> = [
        // The seed's two errors.
        { method: "POST", path: "/add", body: { n: 2, hostnames: ["S5", "S4", "S10", "S11"] }, status: 400, message: "<Error> Length of hostname list is more than newly added instances" },
        { method: "DELETE", path: "/rm", body: { n: 2, hostnames: ["S5", "S4", "S10", "S11"] }, status: 400, message: "<Error> Length of hostname list is more than removable instances" },
        // Names that do not fit the fleet.
        { method: "DELETE", path: "/rm", body: { n: 1, hostnames: ["S404"] }, status: 400, message: '<Error> no server is named "S404"' },
        { method: "DELETE", path: "/rm", body: { n: servers + 1 }, status: 400, message: `<Error> cannot remove ${servers + 1} servers: the fleet has ${servers}` },
        { method: "POST", path: "/add", body: { n: 1, hostnames: ["Server 1"] }, status: 400, message: '<Error> hostname "Server 1" is already in use' },
        { method: "POST", path: "/add", body: { n: 2, hostnames: ["S9", "S9"] }, status: 400, message: '<Error> hostname "S9" is listed twice' },
        { method: "DELETE", path: "/rm", body: { n: 2, hostnames: ["Server 1", "Server 1"] }, status: 400, message: '<Error> hostname "Server 1" is listed twice' },
        {
          method: "POST",
          path: "/add",
          body: { n: 1, hostnames: ["-rf"] },
          status: 400,
          message: `<Error> a hostname is 1 to 63 letters, digits, spaces, '.', '_' or '-', starting with a letter or digit and not ending with a space; got "-rf"`,
        },
        { method: "POST", path: "/add", body: { n: 1, hostnames: "S5" }, status: 400, message: '<Error> hostnames must be a list of names such as ["S5", "S6"], got "S5"' },
        { method: "POST", path: "/add", body: { n: 2000 }, status: 400, message: `<Error> the fleet has ${servers} servers; adding 2000 would exceed the limit of 1024` },
        // n that is not a positive integer.
        ...[0, -1, 1.5, "2", null, true].flatMap((n) => [
          { method: "POST", path: "/add", body: { n }, status: 400, message: INVALID_N },
          { method: "DELETE", path: "/rm", body: { n }, status: 400, message: INVALID_N },
        ]),
        { method: "POST", path: "/add", body: { hostnames: ["S5"] }, status: 400, message: INVALID_N },
        { method: "DELETE", path: "/rm", body: "{}", status: 400, message: INVALID_N },
        // Payloads that are not the expected JSON object.
        { method: "POST", path: "/add", body: { n: 1, hostname: ["S5"] }, status: 400, message: '<Error> unknown field "hostname" (expected n, hostnames, proxy)' },
        { method: "DELETE", path: "/rm", body: { n: 1, proxy: 1 }, status: 400, message: '<Error> unknown field "proxy" (expected n, hostnames)' },
        { method: "POST", path: "/add", body: [1], status: 400, message: '<Error> the payload must be a JSON object such as {"n": 2, "hostnames": ["S5", "S6"]}' },
        { method: "POST", path: "/add", status: 400, message: '<Error> a JSON payload is required, e.g. {"n": 2, "hostnames": ["S5"]}' },
        { method: "DELETE", path: "/rm", body: "  ", status: 400, message: '<Error> a JSON payload is required, e.g. {"n": 2, "hostnames": ["S5"]}' },
        { method: "POST", path: "/add", body: '{"n": 2', status: 400, message: /^<Error> the payload is not valid JSON \(.+\)$/ },
        { method: "DELETE", path: "/rm", body: "n=2", status: 400, message: /^<Error> the payload is not valid JSON \(.+\)$/ },
        { method: "POST", path: "/add", body: JSON.stringify({ n: 1, pad: "x".repeat(70_000) }), status: 413, message: "<Error> the payload is larger than 65536 bytes" },
        // Choosing the proxy.
        ...(proxies === 0
          ? [{ method: "POST", path: "/add", body: { n: 1, proxy: 1 }, status: 400, message: "<Error> proxy cannot be chosen: this fleet has no reverse proxies (the load balancer routes to the servers)" }]
          : [
              { method: "POST", path: "/add", body: { n: 1, proxy: 3 }, status: 400, message: "<Error> proxy must be the number of a reverse proxy (1 to 2), got 3" },
              { method: "POST", path: "/add", body: { n: 1, proxy: 0 }, status: 400, message: "<Error> proxy must be the number of a reverse proxy, got 0" },
              { method: "POST", path: "/add", body: { n: 1, proxy: "2" }, status: 400, message: '<Error> proxy must be the number of a reverse proxy, got "2"' },
            ]),
        // Wrong methods.
        { method: "GET", path: "/add", status: 405, message: "<Error> /add takes POST", allow: "POST" },
        { method: "PUT", path: "/add", body: { n: 1 }, status: 405, message: "<Error> /add takes POST", allow: "POST" },
        { method: "POST", path: "/rm", body: { n: 1 }, status: 405, message: "<Error> /rm takes DELETE", allow: "DELETE" },
        { method: "GET", path: "/rm", status: 405, message: "<Error> /rm takes DELETE", allow: "DELETE" },
        { method: "DELETE", path: "/rep", status: 405, message: "<Error> /rep takes GET", allow: "GET, HEAD" },
        { method: "POST", path: "/heartbeat", body: "", status: 405, message: "<Error> /heartbeat takes GET", allow: "GET, HEAD" },
      ];

      const mismatches: string[] = [];
      for (const c of cases) {
        const answer = await call(base, c.method, c.path, { body: c.body, headers: c.body === undefined ? {} : { "content-type": "application/json" } });
        const body = answer.json as { message?: unknown; status?: unknown } | undefined;
        const messageOk = typeof c.message === "string" ? body?.message === c.message : typeof body?.message === "string" && c.message.test(body.message);
        const allowOk = c.allow === undefined || answer.headers.get("allow") === c.allow;
        if (answer.status !== c.status || !messageOk || body?.status !== "failure" || Object.keys(body ?? {}).length !== 2 || !allowOk) {
          mismatches.push(`${c.method} ${c.path} ${JSON.stringify(c.body)}: got ${answer.status} ${answer.text} (allow: ${answer.headers.get("allow")})`);
        }
      }
      expect(mismatches).toEqual([]);

      if (CURL === null) skipCheck("the seed's /add error with curl", "curl is not on PATH");
      else {
        const viaCurl = await curl(`${base}/add`, ["-X", "POST", "-H", "content-type: application/json", "--data", '{"n":2,"hostnames":["S5","S4","S10","S11"]}']);
        expect([viaCurl.status, JSON.parse(viaCurl.text)]).toEqual([400, failed("<Error> Length of hostname list is more than newly added instances")]);
      }

      // Nothing changed: the same servers, the same processes, nothing started or stopped.
      const after: VerboseReplica[] = await verboseRep(base);
      expect(after).toEqual(snapshot);
      expect(fleet.watchdog.lines.slice(logFrom).filter((line) => /Adding|Removing|Creating|has died/.test(line))).toEqual([]);
      expect(await rep(base)).toEqual({ N: servers, replicas: names(servers) });
    });
  });
}
