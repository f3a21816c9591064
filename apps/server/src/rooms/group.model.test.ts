// A model-based randomized test of the rooms group (issue 6). Five servers, each a Group over its
// own SQLite file, talk through an in-memory transport that can kill a server (its code never runs
// again; its file stays), start it again (a new election id, as a new pid), and pause it as SIGSTOP
// does (it neither sends nor handles anything, while the timers of everyone, itself included, run
// on). Four clients run reservations, cancellations and checks through random servers while a
// fault loop kills, starts, pauses and resumes servers, at most two at a time. Every answer is
// checked against a plain in-memory model of what was confirmed, and at the end every server must
// hold exactly the model's reservations: nothing confirmed lost, nothing booked twice, no replica
// apart from the others.
//
// Each client works on one room at a time and each room has one slot, so the operations on a slot
// are sequential and the model is exact, while operations on different rooms, and the faults,
// interleave freely. ROOMS_MODEL_SEED=N replays a schedule (the timing still varies).
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@switchyard/log";
import { ROOMS, type RoomsCommand } from "@switchyard/rooms";
import { Group, type GroupTransport, type Member, type RoomsAnswer } from "./group.ts";
import { RoomStore } from "./store.ts";

const SERVERS = 5;
const CLIENTS = 4;
const OPS_PER_CLIENT = 100;
/** Between a client's operations, so that faults land among them. */
const THINK_MS = [20, 80] as const;
const MAX_FAULTY = 2;
/** A killed server stays down at least this long: the others elect a leader and write without it (a quick restart would hide lost writes in its file). */
const DOWN_MS = 1000;
const SLOT = "8:30-9:30";
const DAY = "Monday";
const TIMINGS = { heartbeatMs: 40, heartbeatTimeoutMs: 300, electionTimeoutMs: 120 };
/** A client gives up on one attempt after this long (the server may be paused) and tries another server. */
const ATTEMPT_MS = 1500;
/** Liveness: an operation that has no definite answer after this long is a failure of the group. */
const OPERATION_MS = 30_000;

const seed = Number(process.env.ROOMS_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const random = mulberry32(seed);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const dir = mkdtempSync(join(tmpdir(), "rooms-model-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What the group's log said, kept to explain a failure. */
const trail: string[] = [];
const log = (line: string) => {
  trail.push(line);
  if (trail.length > 400) trail.shift();
};

/** One server slot: a process that can be killed, started again and paused. */
class Server {
  id = 0;
  group: Group | undefined;
  store: RoomStore | undefined;
  paused: PromiseWithResolvers<void> | undefined;
  diedAt = 0;
  private death = Promise.withResolvers<never>();

  constructor(readonly n: number) {}

  get up(): boolean {
    return this.group !== undefined;
  }

  get member(): Member {
    return { id: this.id, address: `mem:${this.id}` };
  }

  start(cluster: Cluster): void {
    this.id = cluster.freshId();
    this.death = Promise.withResolvers<never>();
    this.death.promise.catch(() => undefined);
    this.store = new RoomStore(join(dir, `server-${this.n}.sqlite`));
    const logger = createLogger({ role: `Server #${this.n}`, level: "info", sink: (_fd, line) => log(line) });
    this.group = new Group({ self: this.member, store: this.store, transport: cluster.transportOf(this, this.id), discover: () => cluster.members(this), timings: TIMINGS, log: logger });
    this.group.start();
  }

  kill(): void {
    this.group?.stop();
    this.store?.close();
    this.group = undefined;
    this.store = undefined;
    this.death.reject(new Error("connection reset (the server died)"));
    this.diedAt = performance.now();
    this.resume();
  }

  pause(): void {
    this.paused ??= Promise.withResolvers<void>();
  }

  resume(): void {
    this.paused?.resolve();
    this.paused = undefined;
  }

  /** Returns while incarnation `id` runs: waits while it is paused, forever once it died (a dead process runs nothing more). */
  async awake(id: number): Promise<void> {
    while (this.paused !== undefined) await this.paused.promise;
    if (this.id !== id || !this.up) await new Promise<never>(() => undefined);
  }

  /** Handles a message or a request as incarnation `id`: once awake; the caller sees a reset if it dies meanwhile. */
  async serve<T>(id: number, work: () => Promise<T>): Promise<T> {
    await this.awake(id);
    return Promise.race([work(), this.death.promise]);
  }

  /** What incarnation `id`'s own code awaits (a reply, a timeout): seen only once it is awake, never if it died. */
  async own<T>(id: number, promise: Promise<T>): Promise<T> {
    const settled = await promise.then(
      (value) => ({ ok: true as const, value }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    await this.awake(id);
    if (settled.ok) return settled.value;
    throw settled.error;
  }
}

class Cluster {
  readonly servers = Array.from({ length: SERVERS }, (_, i) => new Server(i + 1));
  private readonly ids = new Set<number>();

  freshId(): number {
    for (;;) {
      const id = 1 + Math.floor(random() * 1_000_000);
      if (!this.ids.has(id)) return this.ids.add(id), id;
    }
  }

  /** The registry: every slot's latest member, a dead one included until it is started again (its entry stays). */
  members(self: Server): Member[] {
    return this.servers.filter((s) => s !== self && s.id !== 0).map((s) => s.member);
  }

  transportOf(sender: Server, senderId: number): GroupTransport {
    return {
      send: (member, op, body, timeoutMs) => {
        const delivery = (async () => {
          await sender.awake(senderId); // a paused server sends nothing
          const target = this.servers.find((s) => s.id === member.id);
          if (target === undefined || !target.up) throw new Error(`connection refused (member ${member.id} is not there)`);
          return structuredClone(await target.serve(member.id, () => target.group!.onMessage(op, structuredClone(body))));
        })();
        return sender.own(senderId, withTimeout(delivery, timeoutMs));
      },
    };
  }

  /** A client's attempt through one server, as a proxy would send it there. */
  attempt(server: Server, command: RoomsCommand, client: number, key: string): Promise<RoomsAnswer> {
    const id = server.id;
    if (!server.up) return Promise.reject(new Error("connection refused"));
    return withTimeout(
      server.serve(id, () => server.group!.execute(command, client, key)),
      ATTEMPT_MS,
    );
  }
}

/** Per room: who holds its one slot, with the key of the reserve that booked it. */
type Model = Map<string, { client: number; key: string }>;

test(`model-based: ${CLIENTS} clients × ${OPS_PER_CLIENT} operations against ${SERVERS} servers killed, started and paused at random (seed ${seed})`, async () => {
  const cluster = new Cluster();
  for (const server of cluster.servers) server.start(cluster);
  const model: Model = new Map();
  const busy = new Set<string>();
  const divergences: string[] = [];
  const counts = { ops: 0, retries: 0, faults: 0 };
  let clientsDone = 0;

  /** Sends until a definite answer, with the same key each time: a repeat gets the first answer, whether or not an earlier attempt took effect. */
  async function run(command: RoomsCommand, client: number, key: string): Promise<{ answer: RoomsAnswer }> {
    const deadline = performance.now() + OPERATION_MS;
    for (;;) {
      const live = cluster.servers.filter((s) => s.up);
      try {
        return { answer: await cluster.attempt(pick(live), command, client, key) };
      } catch (error) {
        counts.retries++;
        if (performance.now() > deadline) throw new Error(`${command.cmd} by client ${client}: no answer in ${OPERATION_MS} ms (last: ${(error as Error).message})`);
        await Bun.sleep(20);
      }
    }
  }

  async function clientLoop(client: number): Promise<void> {
    for (let i = 1; i <= OPS_PER_CLIENT; i++) {
      await Bun.sleep(THINK_MS[0] + random() * (THINK_MS[1] - THINK_MS[0]));
      const room = pick(ROOMS.filter((r) => !busy.has(r)));
      busy.add(room);
      try {
        const kind = pick(["reserve", "reserve", "cancel", "check"] as const);
        const key = `${client}::${i}`;
        const held = model.get(room);
        const { answer } = await run(kind === "check" ? { cmd: "check", room } : { cmd: kind, room, slot: SLOT, day: DAY }, client, key);
        counts.ops++;
        const got = answer.lines.join(" | ");
        const expect = (...allowed: string[]) => {
          if (!allowed.includes(got)) divergences.push(`${kind} ${room} by client ${client} (key ${key}): got "${got}", the model allows ${allowed.map((a) => `"${a}"`).join(" or ")}`);
        };
        if (kind === "check") expect(held === undefined ? "No room reservation found" : `${room} ${SLOT} ${DAY}`);
        else if (kind === "reserve") {
          if (held === undefined) {
            expect("Reservation confirmed");
            model.set(room, { client, key });
          } else expect(`${room} is already reserved at ${SLOT} on ${DAY}`);
        } else if (held === undefined) expect(`No reservation of ${room} at ${SLOT} on ${DAY} to cancel`);
        else if (held.client !== client) expect(`Only the client that reserved ${room} at ${SLOT} on ${DAY} can cancel it`);
        else {
          // Even when an earlier attempt timed out after it cancelled: a repeat gets the first answer.
          expect("Reservation cancelled");
          model.delete(room);
        }
      } finally {
        busy.delete(room);
      }
    }
    clientsDone++;
  }

  async function faultLoop(): Promise<void> {
    while (clientsDone < CLIENTS) {
      await Bun.sleep(40 + random() * 120);
      const up = cluster.servers.filter((s) => s.up && s.paused === undefined);
      const faulty = cluster.servers.filter((s) => !s.up || s.paused !== undefined);
      const canFail = faulty.length < MAX_FAULTY && up.length > 1;
      const healable = faulty.filter((s) => s.up || performance.now() - s.diedAt >= DOWN_MS);
      // The leader is the one whose failure matters most: it is also picked on purpose.
      const leader = up.find((s) => s.group?.isLeader === true);
      const action = pick([...(canFail ? ["kill", "pause", ...(leader === undefined ? [] : ["kill leader", "pause leader"])] : []), ...(healable.length > 0 ? ["heal"] : []), "none"]);
      if (action === "none") continue;
      counts.faults++;
      if (action === "kill") pick(up).kill();
      else if (action === "pause") pick(up).pause();
      else if (action === "kill leader") leader?.kill();
      else if (action === "pause leader") leader?.pause();
      else {
        const server = pick(healable);
        if (server.up) server.resume();
        else server.start(cluster);
      }
    }
  }

  try {
    await Promise.all([faultLoop(), ...Array.from({ length: CLIENTS }, (_, i) => clientLoop(i + 1))]);
    // Heal everything; the group must converge on the model.
    for (const server of cluster.servers) {
      if (!server.up) server.start(cluster);
      server.resume();
    }
    await run({ cmd: "rooms" }, 1, "1::final");
    const expected = [...model].map(([room, { client, key }]) => ({ room, slot: SLOT, day: DAY, client, key })).sort((a, b) => a.room.localeCompare(b.room));
    const held = () => cluster.servers.map((s) => (s.store?.snapshot().reservations ?? []).toSorted((a, b) => a.room.localeCompare(b.room)));
    const deadline = performance.now() + 10_000;
    while (held().some((r) => JSON.stringify(r) !== JSON.stringify(expected)) && performance.now() < deadline) await Bun.sleep(50);
    held().forEach((reservations, i) => {
      if (JSON.stringify(reservations) !== JSON.stringify(expected)) divergences.push(`Server #${i + 1} holds ${JSON.stringify(reservations)}, the model ${JSON.stringify(expected)}`);
    });
    console.log(`seed ${seed}: ${counts.ops} operations, ${counts.retries} retried attempts, ${counts.faults} faults`);
    if (divergences.length > 0) console.error(`seed ${seed}; the group's last log lines:\n${trail.join("\n")}`);
    expect(divergences).toEqual([]);
    expect(counts.ops).toBe(CLIENTS * OPS_PER_CLIENT);
    expect(counts.faults).toBeGreaterThan(10);
  } finally {
    for (const server of cluster.servers) server.kill();
  }
}, 240_000);

/** Rejects after `ms`: the timer runs whatever the promise waits on (a paused server included). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A small seeded generator, so a schedule can be replayed. */
function mulberry32(state: number): () => number {
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
