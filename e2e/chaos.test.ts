// Chaos: while many clients keep requests in flight, members of the fleet are SIGKILLed at random or
// frozen with SIGSTOP. Every request must still get its exact answer within its deadline, the
// watchdog must bring every killed member back, and a frozen proxy must be taken out of rotation by
// the load balancer's health checks (and put back once it runs again).
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { NetError, Peer, parseAddress } from "@switchyard/net";
import { Spawned, binary, fleetPids, isAlive, makeTempDir, pollUntil } from "@switchyard/testing";
import { cleanUpAfterEach, fleetFor, logLines } from "./_support.ts";

cleanUpAfterEach();

/** Deadline of every request a simulated client sends (the client binary's default is 10 s). */
const DEADLINE_MS = 8000;

// ---------------------------------------------------------------------------------------------
// Simulated clients: one Peer (one connection to the load balancer) per client id, each keeping
// `depth` sqrt requests in flight, every answer checked against Math.sqrt.
// ---------------------------------------------------------------------------------------------

/** Peers opened by a test; closed after each test, also when it failed. */
const openPeers = new Set<Peer>();
afterEach(() => {
  for (const peer of openPeers) peer.close();
  openPeers.clear();
});

interface Settled {
  client: number;
  value: number;
  startedAt: number;
  endedAt: number;
  /** undefined: answered correctly. */
  error: string | undefined;
}

class Load {
  answered = 0;
  readonly failures: Settled[] = [];
  readonly wrong: string[] = [];
  /** Every request that ended, in the order they ended (only with `record`). */
  readonly settled: Settled[] = [];
  /** Start times of the requests in flight. */
  private readonly pending = new Set<{ startedAt: number }>();
  private sent = 0;
  private stopping = false;
  private readonly watchers = new Set<() => void>();

  private constructor(
    private readonly lanes: ReadonlyArray<{ peer: Peer; client: number; depth: number }>,
    /** Hard cap on requests sent in all (the load also stops at `stop()`). */
    private readonly maxRequests: number,
    /** Keep every ended request in `settled` (failures are always kept). */
    private readonly record: boolean,
  ) {}

  /** Opens one connection per client id to `address` and resolves once every one is open. */
  static async open(
    address: string,
    clients: readonly number[],
    options: { depth: (client: number) => number; maxRequests: number; record: boolean },
  ): Promise<Load> {
    const opened: Array<Promise<void>> = [];
    const lanes = clients.map((client) => {
      const { promise, resolve } = Promise.withResolvers<void>();
      opened.push(promise);
      const peer = new Peer({
        address: parseAddress(address),
        role: "client",
        id: client,
        connectTimeoutMs: 5000,
        timeoutMs: DEADLINE_MS,
        onStateChange: (state) => {
          if (state === "open") resolve();
        },
      });
      openPeers.add(peer);
      return { peer, client, depth: options.depth(client) };
    });
    await withTimeout(Promise.all(opened), 15_000, `${clients.length} connections to the load balancer`);
    return new Load(lanes, options.maxRequests, options.record);
  }

  start(): void {
    for (const lane of this.lanes) for (let d = 0; d < lane.depth; d++) this.next(lane.peer, lane.client);
  }

  /** Resolves once `condition` holds (re-checked whenever a request ends); rejects after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        this.watchers.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms (answered ${this.answered}, failed ${this.failures.length}, in flight ${this.pending.size})`));
      }, timeoutMs);
      this.watchers.add(check);
    });
  }

  /** Sends no new requests, waits for those in flight to end (each is bounded by its deadline), closes the connections. */
  async stop(): Promise<void> {
    this.stopping = true;
    try {
      await this.until(() => this.pending.size === 0, DEADLINE_MS + 5000, "end of the requests in flight");
    } finally {
      for (const { peer } of this.lanes) {
        peer.close();
        openPeers.delete(peer);
      }
    }
  }

  /** Whether a request started before `time` is still in flight. */
  inflightStartedBefore(time: number): boolean {
    for (const request of this.pending) if (request.startedAt < time) return true;
    return false;
  }

  private next(peer: Peer, client: number): void {
    if (this.stopping || peer.state === "closed" || this.sent >= this.maxRequests) return;
    const seq = this.sent++;
    // Whole numbers and fractions, never a perfect-square pattern only.
    const value = seq % 2 === 0 ? seq : seq + 0.5;
    const startedAt = performance.now();
    const request = { startedAt };
    this.pending.add(request);
    peer.request("sqrt", { client, value }, DEADLINE_MS, client).then(
      (body) => {
        const result = (body as { result?: unknown } | null)?.result;
        if (result === Math.sqrt(value)) {
          this.answered++;
          this.end(request, { client, value, startedAt, endedAt: performance.now(), error: undefined });
        } else {
          this.wrong.push(`Client #${client}: sqrt(${value}) answered ${JSON.stringify(body)}`);
          this.end(request, { client, value, startedAt, endedAt: performance.now(), error: "wrong answer" });
        }
        this.next(peer, client);
      },
      (error: unknown) => {
        const text = error instanceof NetError ? `${error.code}${error.remoteCode ? `/${error.remoteCode}` : ""}: ${error.message}` : String(error);
        const settled = { client, value, startedAt, endedAt: performance.now(), error: text };
        this.failures.push(settled);
        this.end(request, settled);
        // A failed request may fail again at once: pause this lane briefly instead of spinning.
        setTimeout(() => this.next(peer, client), 20);
      },
    );
  }

  private end(request: { startedAt: number }, settled: Settled): void {
    this.pending.delete(request);
    if (this.record) this.settled.push(settled);
    for (const check of [...this.watchers]) check();
  }
}

/** Index of the first line at or after index `from` that matches, once there is one (bounded). */
async function lineAfter(spawned: Spawned, from: number, match: (line: string) => boolean, timeoutMs: number, what: string): Promise<number> {
  const find = () => spawned.lines.findIndex((line, i) => i >= from && match(line));
  await spawned.waitFor(() => find() >= 0, timeoutMs, what);
  return find();
}

function withTimeout<T>(promise: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** A short description of failed requests for an assertion message. */
const describeFailures = (failures: readonly Settled[]) =>
  failures.slice(0, 10).map((f) => `Client #${f.client} sqrt(${f.value}) after ${Math.round(f.endedAt - f.startedAt)} ms: ${f.error}`);

// ---------------------------------------------------------------------------------------------
// A fleet at --log-level warn. Its watchdog prints nothing when the fleet is ready ("Fleet ready"
// and "… is back" are info lines), so startFleet/fleetFor cannot be used: readiness is a load
// balancer that answers, and every process is killed by pid after the test.
// ---------------------------------------------------------------------------------------------

interface QuietFleet {
  readonly runDir: string;
  readonly watchdog: Spawned;
  /** unix:<runDir>/load_balancer.sock */
  readonly address: string;
}

const quietFleets: QuietFleet[] = [];
afterEach(async () => {
  for (const fleet of quietFleets.splice(0)) {
    fleet.watchdog.kill("SIGKILL");
    for (const pid of fleetPids(fleet.runDir)) {
      try {
        process.kill(pid, "SIGCONT");
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await fleet.watchdog.exited(10_000).catch(() => undefined);
  }
});

async function startQuietFleet(args: string[]): Promise<QuietFleet> {
  const runDir = makeTempDir("sy-chaos-");
  const watchdog = new Spawned([binary("watchdog"), "--run-dir", runDir, "--http-port", "0", ...args]);
  const fleet: QuietFleet = { runDir, watchdog, address: `unix:${join(runDir, "load_balancer.sock")}` };
  quietFleets.push(fleet);
  // The watchdog starts the load balancer last, once every server and proxy reported ready.
  const listening = await pollUntil(() => existsSync(join(runDir, "load_balancer.sock")) || watchdog.proc.exitCode !== null, 30_000);
  if (!listening || watchdog.proc.exitCode !== null) throw new Error(`the fleet did not start; watchdog output:\n${watchdog.output}`);
  // It serves once it has connected to the proxies: an odd and an even client must be answered.
  for (const client of [1, 2]) {
    if (!(await servesWithin(fleet.address, client, 20_000))) throw new Error(`the load balancer does not answer Client #${client}; output:\n${watchdog.output}`);
  }
  return fleet;
}

/** Whether one sqrt request straight to `address` (any member answers sqrt) is answered correctly within `timeoutMs`. */
async function serves(address: string, client: number, timeoutMs: number): Promise<boolean> {
  const peer = new Peer({ address: parseAddress(address), role: "client", id: client, connectTimeoutMs: timeoutMs, timeoutMs, reconnect: false });
  openPeers.add(peer);
  try {
    const body = await peer.request("sqrt", { client, value: 6.25 }, timeoutMs, client);
    return (body as { result?: unknown } | null)?.result === 2.5;
  } catch {
    return false;
  } finally {
    peer.close();
    openPeers.delete(peer);
  }
}

/** Retries `serves` (at most 100 tries, 100 ms apart) until it answers or `timeoutMs` passed. */
async function servesWithin(address: string, client: number, timeoutMs: number): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (let attempt = 0; attempt < 100 && performance.now() < deadline; attempt++) {
    if (await serves(address, client, 2000)) return true;
    await Bun.sleep(100);
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// The members that may be killed: reverse proxies and servers (never the watchdog or the load
// balancer), found by pid with ps. Proxy #k owns Servers #3k-2 … #3k (the default fleet).
// ---------------------------------------------------------------------------------------------

interface Member {
  label: string;
  kind: "proxy" | "server";
  n: number;
  /** The proxy it belongs to (for a proxy, itself). */
  proxy: number;
  /** Its --listen address (unix:<runDir>/server-4.sock). */
  socket: string;
}

const SERVERS_PER_PROXY = 3;

/** Label → pid of each running proxy and server of the fleet in `runDir`. */
function memberPids(runDir: string): Map<string, { member: Member; pid: number }> {
  const out = Bun.spawnSync(["ps", "-eo", "pid=,args="]).stdout.toString();
  const found = new Map<string, { member: Member; pid: number }>();
  for (const line of out.split("\n")) {
    if (!line.includes(runDir)) continue;
    const match = /^\s*(\d+)\s+\S*\/(server|reverse_proxy) --id (\d+) (?:--name .*? )?--listen (\S+)\s/.exec(line);
    if (match === null) continue;
    const n = Number(match[3]);
    const socket = match[4] ?? "";
    const member: Member =
      match[2] === "server"
        ? { label: `Server #${n}`, kind: "server", n, proxy: Math.ceil(n / SERVERS_PER_PROXY), socket }
        : { label: `Reverse Proxy #${n}`, kind: "proxy", n, proxy: n, socket };
    found.set(member.label, { member, pid: Number(match[1]) });
  }
  return found;
}

/**
 * Whether requests can still be answered if only `up` members run: some proxy runs with at least
 * one of its servers (the load balancer retries a request on the other proxy, a proxy on its other
 * servers). Killing both proxies at once would leave nothing to answer with, which no fleet survives.
 */
function answerable(up: readonly Member[]): boolean {
  return up.some((p) => p.kind === "proxy" && up.some((s) => s.kind === "server" && s.proxy === p.n));
}

/** xorshift32: the victims of a run follow from its seed (reported when the test fails) and its timing. */
function seededRandom(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

interface Kill {
  label: string;
  pid: number;
  at: number;
}

/**
 * Every 300–400 ms, SIGKILLs one random proxy or server among those that have served (probed
 * directly on their own socket) since the previous round and whose death leaves a path through the
 * fleet (see `answerable`), never the watchdog or the load balancer. Stops after `kills` kills
 * once `minMs` passed, or after `maxMs` / 80 rounds whatever happened.
 */
async function killAtRandom(runDir: string, options: { kills: number; minMs: number; maxMs: number; seed: number }): Promise<{ kills: Kill[]; seen: Set<number> }> {
  const random = seededRandom(options.seed);
  const kills: Kill[] = [];
  const killedPids = new Set<number>();
  const seen = new Set<number>();
  /** pid → round in which it answered a probe. */
  const servedIn = new Map<number, number>();
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  for (let round = 1; round <= 80 && elapsed() < options.maxMs && (kills.length < options.kills || elapsed() < options.minMs); round++) {
    await Bun.sleep(300 + random() * 100); // the pace of the chaos, not a wait for an event
    const running = [...memberPids(runDir).values()].filter(({ pid }) => !killedPids.has(pid));
    for (const { pid } of running) seen.add(pid);
    // Probe the new ones (just respawned, or not yet probed) directly, all at once.
    await Promise.all(
      running
        .filter(({ pid }) => !servedIn.has(pid))
        .map(async ({ member, pid }) => {
          if (await serves(member.socket, 900_000 + member.n, 1500)) servedIn.set(pid, round);
        }),
    );
    if (kills.length >= options.kills) continue;
    // Up: served in an earlier round, so the hops above had a round to reconnect to it.
    const up = running.filter(({ pid }) => (servedIn.get(pid) ?? round) < round);
    const candidates = up.filter(
      (victim) =>
        // At most 3 kills of one member: 5 restarts within 10 s would arm the watchdog's crash backoff.
        kills.filter((k) => k.label === victim.member.label).length < 3 &&
        answerable(up.filter((other) => other !== victim).map((other) => other.member)),
    );
    // Every third victim a proxy where one may be killed, else a server: both kinds die in each run.
    const preferred = candidates.filter((c) => c.member.kind === (kills.length % 3 === 1 ? "proxy" : "server"));
    const pool = preferred.length > 0 ? preferred : candidates;
    const victim = pool[Math.floor(random() * pool.length)];
    if (victim === undefined) continue;
    process.kill(victim.pid, "SIGKILL");
    killedPids.add(victim.pid);
    kills.push({ label: victim.member.label, pid: victim.pid, at: Math.round(elapsed()) });
  }
  return { kills, seen };
}

// ---------------------------------------------------------------------------------------------

describe("chaos: random proxies and servers are SIGKILLed under load", () => {
  test(
    "64 clients get every answer right, every kill is logged and repaired, and SIGTERM then stops everything",
    async () => {
      const fleet = await startQuietFleet(["--log-level", "warn"]);
      const initial = fleetPids(fleet.runDir);
      expect(initial).toHaveLength(10); // the watchdog and its 9 members

      // 64 clients, odd ones with one request in flight, even ones with two.
      const load = await Load.open(fleet.address, range(1, 64), { depth: (client) => 1 + (client % 2), maxRequests: 2_000_000, record: false });
      load.start();
      await load.until(() => load.answered >= 64, 20_000, "first answers");

      const seed = (Date.now() ^ process.pid) >>> 0;
      const { kills, seen } = await killAtRandom(fleet.runDir, { kills: 10, minMs: 4500, maxMs: 15_000, seed });
      await load.stop();
      const context = `seed ${seed}, kills ${JSON.stringify(kills)}`;

      // Every request was answered, and answered right.
      expect({ context, failed: load.failures.length, failures: describeFailures(load.failures) }).toEqual({ context, failed: 0, failures: [] });
      expect(load.wrong).toEqual([]);
      expect(load.answered).toBeGreaterThan(500);
      // The chaos really happened: enough kills, of proxies and of servers.
      expect(kills.length).toBeGreaterThanOrEqual(5);
      expect(new Set(kills.map((k) => k.label.replace(/ #\d+$/, "")))).toEqual(new Set(["Reverse Proxy", "Server"]));

      // Each kill is logged once by the watchdog as a death by SIGKILL; nothing else died.
      const expectedDeaths = kills.map((k) => `[Watchdog]: ${k.label} has died (SIGKILL). Re-creating.`).sort();
      await fleet.watchdog.waitForLines(/^\[Watchdog\]: .* has died/, kills.length, 20_000);
      expect(fleet.watchdog.lines.filter((line) => /has died/.test(line)).sort()).toEqual(expectedDeaths);

      // Each killed member was re-created with a new pid and serves on its own socket again.
      // (At --log-level warn the watchdog's "… is back" lines are not printed: they are info.)
      const killedPids = new Set(kills.map((k) => k.pid));
      const labels = [...new Set(kills.map((k) => k.label))];
      const respawned = () => labels.filter((label) => {
        const now = memberPids(fleet.runDir).get(label);
        return now !== undefined && !killedPids.has(now.pid);
      });
      await pollUntil(() => respawned().length === labels.length, 20_000);
      expect(respawned().sort()).toEqual([...labels].sort());
      const serving = await Promise.all(
        labels.map(async (label) => {
          const now = memberPids(fleet.runDir).get(label);
          if (now !== undefined) seen.add(now.pid);
          return { label, serves: now !== undefined && (await servesWithin(now.member.socket, 999, 20_000)) };
        }),
      );
      expect(serving).toEqual(labels.map((label) => ({ label, serves: true })));
      expect(memberPids(fleet.runDir).size).toBe(8);
      for (const pid of killedPids) expect(isAlive(pid)).toBe(false);

      // A clean stop: SIGTERM to the watchdog, exit 0, and no process of the fleet is left.
      const everyPid = new Set([...initial, ...seen, ...fleetPids(fleet.runDir)]);
      process.kill(fleet.watchdog.pid, "SIGTERM");
      expect(await fleet.watchdog.exited(40_000)).toBe(0);
      expect(await pollUntil(() => fleetPids(fleet.runDir).length === 0, 10_000)).toBe(true);
      expect([...everyPid].filter(isAlive)).toEqual([]);
    },
    120_000,
  );
});

describe("chaos: a reverse proxy hangs (SIGSTOP) under load", () => {
  test(
    "the load balancer's health checks take it out, no request fails, and it is used again after SIGCONT",
    async () => {
      // Per-request lines are info, and so is "Proxy #1 is back": this fleet logs at info, with
      // 25 ms of work per request so that a few clients make a moderate stream of lines.
      const fleet = await fleetFor(["--health-interval", "200", "--health-timeout", "200", "--health-fall", "2", "--work-ms", "25"]);
      const proxy = fleet.pidOf("reverse_proxy --id 1 ");
      if (proxy === undefined) throw new Error("no Reverse Proxy #1");

      // Clients 1-4: the odd ones go to Proxy #1 (client-id policy), two requests in flight each.
      const load = await Load.open(fleet.address, range(1, 4), { depth: () => 2, maxRequests: 20_000, record: true });
      load.start();
      await load.until(() => load.answered >= 40, 20_000, "first answers");
      await fleet.watchdog.waitForLine("[Reverse Proxy #1]: Request from Client #1. Forwarding to Server #");

      let detectedAt = 0;
      let stoppedAt = 0;
      let retries: string[] = [];
      const from = fleet.watchdog.lines.length;
      try {
        process.kill(proxy, "SIGSTOP");
        stoppedAt = performance.now();
        const down = await fleet.watchdog.waitForLine(/^\[Load Balancer\]: Proxy #1 is down \(/, 10_000);
        detectedAt = performance.now();
        // Taken out by its failed active checks (2 × 200 ms apart, 200 ms each), not by a request's timeout.
        expect(down).toMatch(/^\[Load Balancer\]: Proxy #1 is down \(2 health checks failed: no answer within 200 ms\)$/);
        // Expected after about interval × fall + timeout = 0.6 s; passive detection would take ~3.8 s.
        expect(detectedAt - stoppedAt).toBeLessThan(3000);

        // Requests started from now on avoid the frozen proxy: enough of them, odd clients included, end.
        const after = () => load.settled.filter((s) => s.startedAt >= detectedAt);
        await load.until(() => after().filter((s) => s.client % 2 === 1).length >= 20, 20_000, "20 answers to odd clients after detection");
        // Those sent to Proxy #1 before it was taken out are retried on Proxy #2 once their attempt's
        // share of the deadline passed; wait until every request started before detection has ended.
        await load.until(() => !load.inflightStartedBefore(detectedAt), DEADLINE_MS + 5000, "end of the requests caught by the hang");
        retries = logLines(fleet, /^\[Load Balancer\]: Proxy #1 failed \(.*\)\. Forwarding Client #\d+ to Proxy #2$/);
        const late = after().filter((s) => s.endedAt - s.startedAt > 2000);
        expect(late.map((s) => `Client #${s.client}: ${Math.round(s.endedAt - s.startedAt)} ms`)).toEqual([]);
      } finally {
        process.kill(proxy, "SIGCONT");
      }

      // Requests were caught in flight by the hang, and were retried (not failed).
      expect(retries.length).toBeGreaterThan(0);
      // The watchdog saw no death: a frozen process is not a dead one.
      expect(logLines(fleet, /has died/)).toEqual([]);

      // Running again, it passes its checks, and odd clients are routed to it again.
      const backLine = "[Load Balancer]: Proxy #1 is back (passed 2 health checks)";
      const backAt = await lineAfter(fleet.watchdog, from, (line) => line === backLine, 10_000, backLine);
      const routed = /^\[Load Balancer\]: Request from Client #[13]\. Forwarding to Proxy #1$/;
      await lineAfter(fleet.watchdog, backAt, (line) => routed.test(line), 10_000, "an odd client routed to Proxy #1 again");

      await load.stop();
      expect({ failed: load.failures.length, failures: describeFailures(load.failures) }).toEqual({ failed: 0, failures: [] });
      expect(load.wrong).toEqual([]);
      expect(isAlive(proxy)).toBe(true);
    },
    120_000,
  );
});
