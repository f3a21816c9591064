import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@switchyard/log";
import { type Address, type Listener, NetError, formatAddress, listen } from "@switchyard/net";
import { type Request, RawBody, decodeValue } from "@switchyard/wire";
import { DEFAULT_HEALTH } from "./health.ts";
import type { Upstream } from "./member.ts";
import { type Pool, createPool } from "./pool.ts";
import { type Tier, createTier } from "./tier.ts";

/** No periodic checks: a member's availability then follows its connection alone, and no timer outlives a test. */
const NO_CHECKS = { ...DEFAULT_HEALTH, intervalMs: 0 };

let dir = "";
const cleanups: (() => void)[] = [];
beforeEach(() => {
  // Short prefix: unix socket paths must stay under 108 bytes.
  dir = mkdtempSync(join(tmpdir(), "sy-pool-"));
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    try {
      cleanup();
    } catch {
      // Keep cleaning.
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const unix = (name: string): Address => ({ kind: "unix", path: join(dir, name) });

/** Log lines, for the one test that checks what the pool says. */
function capturingLogger() {
  const lines: string[] = [];
  const log = createLogger({ role: "Reverse Proxy #1", level: "info", sink: (_fd, line) => lines.push(line.trimEnd()) });
  return { log, lines };
}

/**
 * A wire server n: answers `{from: n, op, body}`, or, for op "slow", only when the test calls
 * `release`; `arrived` resolves when the slow request reached the handler.
 */
async function startServer(n: number) {
  const arrived = Promise.withResolvers<void>();
  const gate = Promise.withResolvers<void>();
  const seen: Request[] = [];
  const listener = await listen({
    address: unix(`s${n}.sock`),
    role: "server",
    id: n,
    handle: async (request) => {
      seen.push(request);
      if (request.op === "slow") {
        arrived.resolve();
        await gate.promise;
      }
      return { from: n, op: request.op, body: request.body };
    },
  });
  cleanups.push(() => listener.close());
  return { listener, seen, arrived: arrived.promise, release: () => gate.resolve() };
}

function makePool(log = createLogger({ role: "Reverse Proxy #1", level: "silent" })): Pool {
  const pool = createPool({ upstreams: [], label: (n) => `Server #${n}`, role: "reverse_proxy", id: 1, log, health: NO_CHECKS });
  cleanups.push(() => pool.close());
  return pool;
}

/** Polls a state that raises no event of its own (a member's connection opening, a socket closing), bounded. */
async function waitFor(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(2);
  }
}

const memberOf = (pool: Pool, n: number): Upstream => {
  const member = pool.members.find((m) => m.n === n);
  if (member === undefined) throw new Error(`no member #${n}`);
  return member;
};

/** Sends one request to member n and decodes the answer (a pool's peers pass answers on as raw bytes). */
async function ask(pool: Pool, n: number, op: string, body: unknown = null): Promise<unknown> {
  const raw = await memberOf(pool, n).peer.request(op, body, 5000);
  expect(raw).toBeInstanceOf(RawBody);
  return decodeValue(raw as RawBody);
}

describe("Pool.add", () => {
  test("makes a member that becomes available and answers requests, kept in order of n", async () => {
    const s2 = await startServer(2);
    const s5 = await startServer(5);
    const pool = makePool();
    pool.add(5, s5.listener.address);
    pool.add(2, s2.listener.address);
    expect(pool.members.map((m) => [m.n, m.label])).toEqual([
      [2, "Server #2"],
      [5, "Server #5"],
    ]);
    await waitFor(() => pool.members.every((m) => m.available), "both members to be available");
    expect(await ask(pool, 2, "sqrt", { n: 16 })).toEqual({ from: 2, op: "sqrt", body: { n: 16 } });
    expect(await ask(pool, 5, "sqrt", { n: 25 })).toEqual({ from: 5, op: "sqrt", body: { n: 25 } });
    expect(s2.listener.connections.size).toBe(1);
    expect(s5.listener.connections.size).toBe(1);
  });

  test("replaces the members list instead of changing the one a request may be routing over", async () => {
    const s1 = await startServer(1);
    const s3 = await startServer(3);
    const pool = makePool();
    pool.add(3, s3.listener.address);
    const before = pool.members;
    const snapshot = [...before];
    pool.add(1, s1.listener.address);
    expect(pool.members).not.toBe(before);
    expect(before).toEqual(snapshot);
    expect(before.map((m) => m.n)).toEqual([3]);
    expect(pool.members.map((m) => m.n)).toEqual([1, 3]);
  });

  test("adding an n already there does nothing: same member, no second connection", async () => {
    const s1 = await startServer(1);
    const other = await startServer(9);
    const pool = makePool();
    pool.add(1, s1.listener.address);
    const first = memberOf(pool, 1);
    const list = pool.members;
    pool.add(1, other.listener.address);
    expect(pool.members).toBe(list);
    expect(memberOf(pool, 1)).toBe(first);
    await waitFor(() => first.available, "member #1 to be available");
    expect(await ask(pool, 1, "who")).toMatchObject({ from: 1 });
    expect(other.listener.connections.size).toBe(0);
    expect(other.seen).toEqual([]);
  });

  test("logs the join once, naming the address", async () => {
    const s4 = await startServer(4);
    const { log, lines } = capturingLogger();
    const pool = makePool(log);
    pool.add(4, s4.listener.address);
    pool.add(4, s4.listener.address);
    expect(lines.filter((l) => l.includes("joins"))).toEqual([`[Reverse Proxy #1]: Server #4 joins (${formatAddress(s4.listener.address)})`]);
  });
});

describe("Pool.remove", () => {
  test("takes the member out at once, lets its request in flight finish, then closes its connection", async () => {
    const s1 = await startServer(1);
    const s2 = await startServer(2);
    const pool = makePool();
    pool.add(1, s1.listener.address);
    pool.add(2, s2.listener.address);
    await waitFor(() => pool.members.every((m) => m.available), "both members to be available");
    const leaving = memberOf(pool, 2);
    const before = pool.members;

    const answer = leaving.peer.request("slow", { n: 7 }, 5000);
    await s2.arrived;
    let removed = false;
    const removal = pool.remove(2).then(() => {
      removed = true;
    });
    // At once: no new request can be routed to #2, and the list a request started with is untouched.
    expect(pool.members.map((m) => m.n)).toEqual([1]);
    expect(before.map((m) => m.n)).toEqual([1, 2]);

    // Still draining: its connection stays open while the request is unanswered.
    await Promise.resolve();
    expect(removed).toBe(false);
    expect(s2.listener.connections.size).toBe(1);

    s2.release();
    expect(decodeValue((await answer) as RawBody)).toEqual({ from: 2, op: "slow", body: { n: 7 } });
    await removal;
    await waitFor(() => s2.listener.connections.size === 0, "the removed member's connection to close");
    expect(leaving.peer.state).toBe("closed");
    // The member that stays is untouched.
    expect(await ask(pool, 1, "who")).toMatchObject({ from: 1 });
    expect(s1.listener.connections.size).toBe(1);
  });

  test("a member with nothing in flight is closed at once", async () => {
    const s3 = await startServer(3);
    const pool = makePool();
    pool.add(3, s3.listener.address);
    await waitFor(() => memberOf(pool, 3).available, "member #3 to be available");
    await pool.remove(3);
    expect(pool.members).toEqual([]);
    await waitFor(() => s3.listener.connections.size === 0, "the removed member's connection to close");
  });

  test("a request still unanswered after the drain time is cut off and the connection closed", async () => {
    const s1 = await startServer(1);
    const pool = makePool();
    pool.add(1, s1.listener.address);
    await waitFor(() => memberOf(pool, 1).available, "member #1 to be available");
    const answer = memberOf(pool, 1).peer.request("slow", null, 5000).catch((e: unknown) => e);
    await s1.arrived;
    await pool.remove(1, 30);
    const error = await answer;
    expect(error).toBeInstanceOf(NetError);
    expect((error as NetError).code).toBe("closed");
    await waitFor(() => s1.listener.connections.size === 0, "the removed member's connection to close");
    s1.release();
  });

  test("closing the pool while a member drains closes it too, and the removal resolves", async () => {
    const s1 = await startServer(1);
    const pool = makePool();
    pool.add(1, s1.listener.address);
    await waitFor(() => memberOf(pool, 1).available, "member #1 to be available");
    const answer = memberOf(pool, 1).peer.request("slow", null, 5000).catch((e: unknown) => e);
    await s1.arrived;
    const removal = pool.remove(1);
    pool.close();
    expect(((await answer) as NetError).code).toBe("closed");
    await removal;
    await waitFor(() => s1.listener.connections.size === 0, "the connection to close");
    s1.release();
  });

  test("removing an unknown n resolves and changes nothing", async () => {
    const s1 = await startServer(1);
    const pool = makePool();
    pool.add(1, s1.listener.address);
    const list = pool.members;
    await pool.remove(42);
    expect(pool.members).toBe(list);
    await waitFor(() => memberOf(pool, 1).available, "member #1 to be available");
  });
});

describe("Tier.onWatchdog: upstreams", () => {
  async function startTier(log = createLogger({ role: "Reverse Proxy #1", level: "silent" })): Promise<Tier> {
    const tier = await createTier({
      listen: unix("tier.sock"),
      role: "reverse_proxy",
      id: 1,
      log,
      upstreams: [],
      label: (n) => `Server #${n}`,
      upstreamRole: "server",
      health: NO_CHECKS,
      handle: () => () => null,
    });
    cleanups.push(() => {
      tier.listener.close();
      tier.pool.close();
    });
    return tier;
  }
  const upstreams = (data: unknown) => ({ t: "ctl" as const, kind: "upstreams", data });

  test("add joins a member that serves; remove takes it out at once and closes it after its request in flight", async () => {
    const s2 = await startServer(2);
    const s3 = await startServer(3);
    const tier = await startTier();
    tier.onWatchdog(upstreams({ add: [{ n: 3, address: `unix:${join(dir, "s3.sock")}` }, { n: 2, address: `unix:${join(dir, "s2.sock")}` }] }));
    expect(tier.pool.members.map((m) => m.n)).toEqual([2, 3]);
    await waitFor(() => tier.pool.members.every((m) => m.available), "both members to be available");
    expect(await ask(tier.pool, 3, "who")).toMatchObject({ from: 3 });

    const leaving = memberOf(tier.pool, 2);
    const answer = leaving.peer.request("slow", null, 5000);
    await s2.arrived;
    tier.onWatchdog(upstreams({ remove: [2] }));
    expect(tier.pool.members.map((m) => m.n)).toEqual([3]);
    expect(s2.listener.connections.size).toBe(1);
    s2.release();
    expect(decodeValue((await answer) as RawBody)).toMatchObject({ from: 2, op: "slow" });
    await waitFor(() => s2.listener.connections.size === 0, "the removed member's connection to close");
    expect(s3.listener.connections.size).toBe(1);
  });

  test("malformed entries are skipped without throwing; good entries beside them still apply", async () => {
    const s5 = await startServer(5);
    const { log, lines } = capturingLogger();
    const tier = await startTier(log);
    const good = `unix:${join(dir, "s5.sock")}`;
    const bad = [
      undefined,
      null,
      "add",
      42,
      { add: "unix:/x.sock", remove: 1 },
      { add: [null, 7, "x", { address: good }, { n: "6", address: good }, { n: 1.5, address: good }, { n: 6 }, { n: 6, address: 6 }] },
      { remove: [null, "5", 1.5, { n: 5 }] },
    ];
    for (const data of bad) expect(() => tier.onWatchdog(upstreams(data))).not.toThrow();
    expect(tier.pool.members).toEqual([]);

    expect(() => tier.onWatchdog(upstreams({ add: [{ n: 4, address: "nonsense" }, { n: 5, address: good }] }))).not.toThrow();
    expect(tier.pool.members.map((m) => m.n)).toEqual([5]);
    expect(lines.filter((l) => l.includes("bad address"))).toHaveLength(1);
    expect(lines.find((l) => l.includes("bad address"))).toContain("#4");
    await waitFor(() => memberOf(tier.pool, 5).available, "member #5 to be available");
    expect(await ask(tier.pool, 5, "who")).toMatchObject({ from: 5 });
  });
});
