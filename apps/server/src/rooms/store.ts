import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";

export interface Reservation {
  room: string;
  slot: string;
  day: string;
  /** The client that reserved it: the only one that may cancel it. */
  client: number;
  /** The idempotency key of the reserve that made it (client id and request number). */
  key: string;
}

/** The answer a write request got, kept under its idempotency key: a repeat of the request gets it again and changes nothing. */
export interface Answered {
  key: string;
  lines: string[];
}

/**
 * What the leader decided for a write request: the change to the reservations ("none" for a
 * refusal) and the answer; every replica applies it, in version order.
 */
export type Effect = ({ kind: "put"; reservation: Reservation } | { kind: "delete"; room: string; slot: string; day: string } | { kind: "none" }) & { answered?: Answered };

/** How many of the latest write requests' answers are kept: a repeat older than that (a request stuck that long) is decided afresh. */
export const ANSWERS_KEPT = 10_000;

export interface Snapshot {
  epoch: number;
  version: number;
  /** The epoch of the leader that made the last applied effect: with the version, how far a replica is. */
  lastEpoch: number;
  reservations: Reservation[];
  /** The answers kept under their requests' keys, with the version that wrote each. */
  answered: Array<Answered & { version: number }>;
}

/** A replica asked to apply an effect that does not follow its version: it must catch up first. */
export class VersionGap extends Error {
  override readonly name = "VersionGap";
}

/**
 * The reservations of one server, in SQLite (WAL, synchronous NORMAL: a committed transaction
 * survives a process crash), with the two numbers replication needs: the data version (one more
 * per applied effect) and the highest leadership epoch this server has seen (fencing).
 */
export class RoomStore {
  private readonly db: Database;
  private cachedVersion: number;
  private cachedEpoch: number;
  private cachedLastEpoch: number;

  constructor(path: string) {
    if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path, { create: true, strict: true });
    this.db.run("PRAGMA journal_mode = WAL");
    this.db.run("PRAGMA synchronous = NORMAL");
    this.db.run("CREATE TABLE IF NOT EXISTS reservations (room TEXT NOT NULL, slot TEXT NOT NULL, day TEXT NOT NULL, client INTEGER NOT NULL, key TEXT NOT NULL, PRIMARY KEY (room, slot, day))");
    this.db.run("CREATE TABLE IF NOT EXISTS answered (key TEXT PRIMARY KEY, version INTEGER NOT NULL, lines TEXT NOT NULL)");
    this.db.run("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL)");
    this.cachedVersion = this.meta("version");
    this.cachedEpoch = this.meta("epoch");
    this.cachedLastEpoch = this.meta("lastEpoch");
  }

  /**
   * The epoch of the last applied effect. Replicas compare (lastEpoch, version): a newer leader's
   * writes win over an older leader's, whatever their count, as the log up-to-date rule of Raft.
   */
  get lastEpoch(): number {
    return this.cachedLastEpoch;
  }

  get version(): number {
    return this.cachedVersion;
  }

  get epoch(): number {
    return this.cachedEpoch;
  }

  /** Remembers a higher epoch (never a lower one), durably: a restarted server still refuses older leaders. */
  raiseEpoch(epoch: number): void {
    if (epoch <= this.cachedEpoch) return;
    this.setMeta("epoch", epoch);
    this.cachedEpoch = epoch;
  }

  /** The reservations of one room, in day and slot order as stored. */
  check(room: string): Reservation[] {
    return this.db.query<Reservation, { room: string }>("SELECT room, slot, day, client, key FROM reservations WHERE room = $room ORDER BY rowid").all({ room });
  }

  find(room: string, slot: string, day: string): Reservation | undefined {
    return this.db.query<Reservation, { room: string; slot: string; day: string }>("SELECT room, slot, day, client, key FROM reservations WHERE room = $room AND slot = $slot AND day = $day").get({ room, slot, day }) ?? undefined;
  }

  /** The answer the write request with this idempotency key got, if it was decided (and is among the latest ANSWERS_KEPT). */
  answered(key: string): string[] | undefined {
    const row = this.db.query<{ lines: string }, { key: string }>("SELECT lines FROM answered WHERE key = $key").get({ key });
    return row === null ? undefined : (JSON.parse(row.lines) as string[]);
  }

  /** Applies the effect numbered `version` (which must be the next one), made by the leader of `epoch`, in one transaction. */
  apply(effect: Effect, version: number, epoch = this.cachedEpoch): void {
    if (version !== this.cachedVersion + 1) throw new VersionGap(`effect ${version} does not follow version ${this.cachedVersion}`);
    this.db.transaction(() => {
      if (effect.kind === "put") {
        this.db.query("INSERT OR REPLACE INTO reservations (room, slot, day, client, key) VALUES ($room, $slot, $day, $client, $key)").run(bindings(effect.reservation));
      } else if (effect.kind === "delete") {
        this.db.query("DELETE FROM reservations WHERE room = $room AND slot = $slot AND day = $day").run({ room: effect.room, slot: effect.slot, day: effect.day });
      }
      if (effect.answered !== undefined) {
        this.db.query("INSERT OR REPLACE INTO answered (key, version, lines) VALUES ($key, $version, $lines)").run({ key: effect.answered.key, version, lines: JSON.stringify(effect.answered.lines) });
        this.db.query("DELETE FROM answered WHERE version <= $oldest").run({ oldest: version - ANSWERS_KEPT });
      }
      this.setMeta("version", version);
      this.setMeta("lastEpoch", epoch);
    })();
    this.cachedVersion = version;
    this.cachedLastEpoch = epoch;
  }

  snapshot(): Snapshot {
    const reservations = this.db.query<Reservation, []>("SELECT room, slot, day, client, key FROM reservations ORDER BY rowid").all();
    const answered = this.db
      .query<{ key: string; version: number; lines: string }, []>("SELECT key, version, lines FROM answered ORDER BY version")
      .all()
      .map((row) => ({ key: row.key, version: row.version, lines: JSON.parse(row.lines) as string[] }));
    return { epoch: this.cachedEpoch, version: this.cachedVersion, lastEpoch: this.cachedLastEpoch, reservations, answered };
  }

  /** Replaces everything with the leader's state (a replica catching up). */
  restore(snapshot: Snapshot): void {
    this.db.transaction(() => {
      this.db.run("DELETE FROM reservations");
      const insert = this.db.query("INSERT INTO reservations (room, slot, day, client, key) VALUES ($room, $slot, $day, $client, $key)");
      for (const reservation of snapshot.reservations) insert.run(bindings(reservation));
      this.db.run("DELETE FROM answered");
      const answer = this.db.query("INSERT INTO answered (key, version, lines) VALUES ($key, $version, $lines)");
      for (const a of snapshot.answered ?? []) answer.run({ key: a.key, version: a.version, lines: JSON.stringify(a.lines) });
      this.setMeta("version", snapshot.version);
      this.setMeta("lastEpoch", snapshot.lastEpoch);
      if (snapshot.epoch > this.cachedEpoch) this.setMeta("epoch", snapshot.epoch);
    })();
    this.cachedVersion = snapshot.version;
    this.cachedLastEpoch = snapshot.lastEpoch;
    this.cachedEpoch = Math.max(this.cachedEpoch, snapshot.epoch);
  }

  close(): void {
    this.db.close();
  }

  private meta(name: string): number {
    return this.db.query<{ value: number }, { name: string }>("SELECT value FROM meta WHERE name = $name").get({ name })?.value ?? 0;
  }

  private setMeta(name: string, value: number): void {
    this.db.query("INSERT INTO meta (name, value) VALUES ($name, $value) ON CONFLICT (name) DO UPDATE SET value = excluded.value").run({ name, value });
  }
}

/** A reservation as named parameters (bun:sqlite wants a plain record of bindable values). */
function bindings(r: Reservation): Record<string, string | number> {
  return { room: r.room, slot: r.slot, day: r.day, client: r.client, key: r.key };
}
