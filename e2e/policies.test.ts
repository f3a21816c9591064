// Balancing policies and limits as a user sees them: --lb-policy / --proxy-policy on the watchdog
// decide where each request goes (visible in the per-request log lines), a hashing policy keeps a
// client on its proxy through a failure, a bad policy stops the binary at once with exit status 64,
// and --max-inflight / --max-queue refuse what does not fit with `overloaded` instead of hanging.
import { afterEach, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { NetError, Peer, parseAddress } from "@switchyard/net";
import { type Fleet, Spawned, binary, fleetPids, makeTempDir } from "@switchyard/testing";
import { cleanUpAfterEach, fleetFor } from "./_support.ts";

cleanUpAfterEach();

const DEADLINE_MS = 8000;
const POLICY_NAMES = [
  "client-id",
  "consistent-hash",
  "maglev",
  "ip-hash",
  "random",
  "round-robin",
  "weighted-round-robin",
  "least-connections",
  "power-of-two",
  "least-loaded",
];

/** Peers opened by a test; closed after each test, also when it failed. */
const openPeers = new Set<Peer>();
afterEach(() => {
  for (const peer of openPeers) peer.close();
  openPeers.clear();
});

/** A connection to the fleet's load balancer, once it is open (bounded). */
async function connect(fleet: Fleet, id = 1): Promise<Peer> {
  const { promise, resolve } = Promise.withResolvers<void>();
  const peer = new Peer({
    address: parseAddress(fleet.address),
    role: "client",
    id,
    connectTimeoutMs: 5000,
    timeoutMs: DEADLINE_MS,
    onStateChange: (state) => {
      if (state === "open") resolve();
    },
  });
  openPeers.add(peer);
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no connection to ${fleet.address} within 10 s`)), 10_000);
  });
  await Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  return peer;
}

/** √value as answered by the fleet for this client (the request is keyed by the client id, as ./client does). */
async function ask(peer: Peer, client: number, value: number): Promise<unknown> {
  const body = await peer.request("sqrt", { client, value }, DEADLINE_MS, client);
  return (body as { result?: unknown } | null)?.result;
}

const LB_ROUTE = /^\[Load Balancer\]: Request from Client #(\d+)\. Forwarding to Proxy #(\d+)$/;
const PROXY_ROUTE = /^\[Reverse Proxy #(\d+)\]: Request from Client #(\d+)\. Forwarding to Server #(\d+)$/;

/** Every [Load Balancer] routing line from index `from` on, as client → proxies, in order. */
function routesByClient(fleet: Fleet, from = 0): Map<number, number[]> {
  const routes = new Map<number, number[]>();
  for (const line of fleet.watchdog.lines.slice(from)) {
    const match = LB_ROUTE.exec(line);
    if (match === null) continue;
    const client = Number(match[1]);
    routes.set(client, [...(routes.get(client) ?? []), Number(match[2])]);
  }
  return routes;
}

/** Index of the first line at or after index `from` that matches, once there is one (bounded). */
async function lineAfter(fleet: Fleet, from: number, match: (line: string) => boolean, timeoutMs: number, what: string): Promise<number> {
  const find = () => fleet.watchdog.lines.findIndex((line, i) => i >= from && match(line));
  await fleet.watchdog.waitFor(() => find() >= 0, timeoutMs, what);
  return find();
}

/**
 * Asks once for each client (all at once) and returns the proxy each was sent to, read from the
 * load balancer's log.
 */
async function proxyOfEach(fleet: Fleet, peer: Peer, clients: readonly number[]): Promise<Map<number, number>> {
  const from = fleet.watchdog.lines.length;
  const answers = await Promise.all(clients.map((client) => ask(peer, client, client * client)));
  expect(answers).toEqual(clients.map((client) => client));
  await fleet.watchdog.waitFor(
    () => clients.every((client) => routesByClient(fleet, from).has(client)),
    20_000,
    `the load balancer's routing line for each of ${clients.length} clients`,
  );
  const proxyOf = new Map<number, number>();
  for (const [client, proxies] of routesByClient(fleet, from)) if (proxies[0] !== undefined) proxyOf.set(client, proxies[0]);
  return proxyOf;
}

describe("--lb-policy consistent-hash:hash=xxh32 --proxy-policy round-robin", () => {
  test("each client sticks to one proxy, and each proxy hands its requests to its servers in turn", async () => {
    const fleet = await fleetFor(["--lb-policy", "consistent-hash:hash=xxh32", "--proxy-policy", "round-robin"]);
    const peer = await connect(fleet);
    const start = fleet.watchdog.lines.length;

    // Where clients 1-300 land; then up to 6 clients of each proxy ask 4 more times each, interleaved.
    const proxyOf = await proxyOfEach(fleet, peer, Array.from({ length: 300 }, (_, i) => i + 1));
    const chosen = [1, 2].flatMap((k) => [...proxyOf].filter(([, proxy]) => proxy === k).slice(0, 6).map(([client]) => client));
    // The ring puts clients on both proxies (with the seed's quadratic server hash, few on Proxy #2).
    expect(new Set(chosen.map((client) => proxyOf.get(client)))).toEqual(new Set([1, 2]));
    for (let round = 1; round <= 4; round++) {
      const answers = await Promise.all(chosen.map((client) => ask(peer, client, client * client + round * 0.5)));
      expect(answers).toEqual(chosen.map((client) => Math.sqrt(client * client + round * 0.5)));
    }
    const expected = 300 + chosen.length * 4;
    await fleet.watchdog.waitForLines(LB_ROUTE, expected, 20_000);
    await fleet.watchdog.waitForLines(PROXY_ROUTE, expected, 20_000);

    // Sticky: every request of a client went to the same proxy, the one it first went to.
    const routes = routesByClient(fleet, start);
    const moved = chosen.filter((client) => (routes.get(client) ?? []).some((proxy) => proxy !== proxyOf.get(client)));
    expect(moved).toEqual([]);
    expect(chosen.map((client) => routes.get(client)?.length)).toEqual(chosen.map(() => 5));
    expect(fleet.watchdog.lines.filter((line) => /unavailable|failed|Retrying/.test(line))).toEqual([]);

    // Round robin: each proxy's requests, in the order it forwarded them, went to Servers
    // #3k-2, #3k-1, #3k, #3k-2, … (its first pick is its lowest-numbered server), and the proxy
    // that forwarded a client's request is the one the load balancer chose for it.
    const forwarded = new Map<number, number[]>([[1, []], [2, []]]);
    for (const line of fleet.watchdog.lines.slice(start)) {
      const match = PROXY_ROUTE.exec(line);
      if (match === null) continue;
      const [proxy, client, server] = [Number(match[1]), Number(match[2]), Number(match[3])];
      expect({ client, proxy }).toEqual({ client, proxy: proxyOf.get(client) ?? -1 });
      forwarded.get(proxy)?.push(server);
    }
    for (const [k, servers] of forwarded) {
      const inTurn = servers.map((_, i) => 3 * (k - 1) + 1 + (i % 3));
      expect({ proxy: k, servers }).toEqual({ proxy: k, servers: inTurn });
    }
    expect(forwarded.get(1)?.length).toBeGreaterThan(3);
    expect(forwarded.get(2)?.length).toBeGreaterThan(3);
  });

  test("a client's proxy is killed: the client is served by the other proxy, and goes back once its proxy is back", async () => {
    const fleet = await fleetFor(["--lb-policy", "consistent-hash:hash=xxh32"]);
    const peer = await connect(fleet);
    const proxyOf = await proxyOfEach(fleet, peer, Array.from({ length: 300 }, (_, i) => i + 1));
    const client = 1;
    const k = proxyOf.get(client) ?? -1;
    const other = 3 - k;
    // A client of the other proxy, which must not move at all.
    const bystander = [...proxyOf].find(([, proxy]) => proxy === other)?.[0] ?? -1;
    expect([k === 1 || k === 2, bystander > 0]).toEqual([true, true]);
    const victim = fleet.pidOf(`reverse_proxy --id ${k} `);
    if (victim === undefined) throw new Error(`no Reverse Proxy #${k}`);

    // Killed, with the watchdog frozen meanwhile so that no new Proxy #k can come up before the
    // client has asked (a respawn can serve within 50 ms): the client's requests are answered…
    const from = fleet.watchdog.lines.length;
    process.kill(fleet.watchdog.pid, "SIGSTOP");
    try {
      process.kill(victim, "SIGKILL");
      expect(await ask(peer, client, 49)).toBe(7);
      expect(await ask(peer, client, 2.25)).toBe(1.5);
      expect(await ask(peer, bystander, 81)).toBe(9);
    } finally {
      process.kill(fleet.watchdog.pid, "SIGCONT");
    }
    // …by the other proxy: chosen directly once the load balancer knew, or as a retry when the
    // dead connection failed first.
    const servedByOther = new RegExp(
      `^\\[Load Balancer\\]: (Request from Client #${client}\\. Forwarding to Proxy #${other}|Proxy #${k} failed \\(.*\\)\\. Forwarding Client #${client} to Proxy #${other})$`,
    );
    await fleet.watchdog.waitForLines(servedByOther, 2, 10_000);
    await fleet.watchdog.waitForLine(`[Watchdog]: Reverse Proxy #${k} has died (SIGKILL). Re-creating.`, 10_000);

    // Back: the load balancer reconnects, and the client's requests go to its own proxy again.
    const backAt = await lineAfter(fleet, from, (line) => line === `[Load Balancer]: Proxy #${k} is back`, 20_000, `[Load Balancer]: Proxy #${k} is back`);
    expect(await ask(peer, client, 16)).toBe(4);
    expect(await ask(peer, bystander, 100)).toBe(10);
    await lineAfter(fleet, backAt, (line) => line === `[Load Balancer]: Request from Client #${client}. Forwarding to Proxy #${k}`, 10_000, `Client #${client} routed to Proxy #${k} again`);
    await lineAfter(fleet, backAt, (line) => line === `[Load Balancer]: Request from Client #${bystander}. Forwarding to Proxy #${other}`, 10_000, `Client #${bystander} routed to Proxy #${other}`);
    const proxyLine = new RegExp(`^\\[Reverse Proxy #${k}\\]: Request from Client #${client}\\. Forwarding to Server #\\d$`);
    await lineAfter(fleet, backAt, (line) => proxyLine.test(line), 10_000, `the new Reverse Proxy #${k} forwarding Client #${client}`);

    // The bystander stayed on its proxy throughout: the failure moved only the dead proxy's clients.
    expect(routesByClient(fleet, from).get(bystander)).toEqual([other, other]);
  });
});

describe("a bad policy", () => {
  test("./watchdog --lb-policy nope exits 64 with one line naming the flag and every policy, and starts nothing", async () => {
    const runDir = makeTempDir();
    const watchdog = new Spawned([binary("watchdog"), "--lb-policy", "nope", "--run-dir", runDir]);
    expect(await watchdog.exited(15_000)).toBe(64);
    const complaint = watchdog.stderrLines.filter((line) => line.includes("nope"));
    expect(complaint).toHaveLength(1);
    const line = complaint[0] ?? "";
    expect(line).toContain("--lb-policy");
    expect(POLICY_NAMES.filter((name) => !line.includes(name))).toEqual([]);
    expect(watchdog.stdoutLines.filter((l) => /Creating|Fleet ready/.test(l))).toEqual([]);
    expect(fleetPids(runDir)).toEqual([]);
  });

  test("./load_balancer --policy consistent-hash:slots=abc exits 64 naming --policy, the option and the value", async () => {
    const runDir = makeTempDir();
    const balancer = new Spawned([
      binary("load_balancer"),
      "--policy",
      "consistent-hash:slots=abc",
      "--upstreams",
      `1=unix:${join(runDir, "x.sock")}`,
      "--listen",
      `unix:${join(runDir, "lb.sock")}`,
      "--run-dir",
      runDir,
    ]);
    expect(await balancer.exited(15_000)).toBe(64);
    const complaint = balancer.stderrLines.filter((line) => line.includes("abc"));
    expect(complaint).toHaveLength(1);
    expect(complaint[0]).toContain("--policy");
    expect(complaint[0]).toContain("slots");
  });
});

describe("--max-inflight 1 --max-queue 1", () => {
  test("8 simultaneous requests of one client: the ones that fit are answered, the rest refused with overloaded at once", async () => {
    // 300 ms of work per request: the first ones are still in flight when the last ones arrive.
    const fleet = await fleetFor(["--work-ms", "300", "--max-inflight", "1", "--max-queue", "1"]);
    const peers = await Promise.all(Array.from({ length: 8 }, () => connect(fleet, 7)));
    const started = performance.now();
    const outcomes = await Promise.all(
      peers.map((peer, i) =>
        ask(peer, 7, (i + 1) * (i + 1)).then(
          (result) => ({ i, result, code: "answered", ms: performance.now() - started }),
          (error: unknown) => ({
            i,
            result: undefined,
            code: error instanceof NetError ? (error.remoteCode ?? error.code) : String(error),
            ms: performance.now() - started,
          }),
        ),
      ),
    );
    const answered = outcomes.filter((o) => o.code === "answered");
    const overloaded = outcomes.filter((o) => o.code === "overloaded");
    const context = JSON.stringify(outcomes.map((o) => ({ ...o, ms: Math.round(o.ms) })));
    // Each answer is right; every request is either answered or refused as overloaded.
    expect(answered.map((o) => o.result)).toEqual(answered.map((o) => o.i + 1));
    expect({ context, other: outcomes.filter((o) => o.code !== "answered" && o.code !== "overloaded") }).toEqual({ context, other: [] });
    // A proxy each in flight plus one queued fit; with all 8 sent at once the rest cannot.
    expect({ context, answered: answered.length >= 2, overloaded: overloaded.length >= 3 }).toEqual({ context, answered: true, overloaded: true });
    // Nothing hangs: refusals are immediate, answers within a few rounds of 300 ms, all far inside the deadline.
    expect(overloaded.filter((o) => o.ms > 2000).map((o) => o.i)).toEqual([]);
    expect(outcomes.filter((o) => o.ms > 5000).map((o) => o.i)).toEqual([]);
  });

  test("./client prints overloaded when the fleet refuses it", async () => {
    const fleet = await fleetFor(["--work-ms", "1500", "--max-inflight", "1", "--max-queue", "1"]);
    // Two slow requests in flight (one per proxy) and one queued fill the load balancer.
    const peers = await Promise.all(Array.from({ length: 3 }, () => connect(fleet, 9)));
    const filling = peers.map((peer, i) => ask(peer, 9, i));
    await fleet.watchdog.waitForLines(/^\[Load Balancer\]: Request from Client #9\./, 2, 10_000);
    const client = new Spawned([binary("client"), "11", "--value", "4", "--run-dir", fleet.runDir, "--timeout-ms", "8000"]);
    const code = await client.exited(15_000);
    expect(code).toBe(3);
    expect(client.stderrLines.join("\n")).toContain("overloaded");
    expect(await Promise.all(filling)).toEqual([0, 1, Math.SQRT2]);
  });
});
