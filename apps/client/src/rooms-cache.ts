import type { RoomsCommand } from "@switchyard/rooms";

/** An answer as the client keeps it. */
interface Entry {
  lines: string[];
  /** The data version the servers read it at. */
  version: number;
  /** performance.now() when it arrived. */
  at: number;
}

/**
 * The rooms client's cache (seeds/004): the room, timeslot and day lists never change, so the first
 * answer serves every later one; a `check` answer is kept for `ttlMs` (the bound on how stale a
 * change by another client can be) and never shown once older than this client's own last write
 * (read-your-writes: a reserve or cancel that changed something raises the floor to its version).
 */
export class RoomsCache {
  private readonly entries = new Map<string, Entry>();
  /** The version of this client's last write: cached answers read before it are not shown. */
  private floor = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly ttlMs: number) {}

  get(command: RoomsCommand, now = performance.now()): string[] | undefined {
    const key = keyOf(command);
    const entry = key === undefined ? undefined : this.entries.get(key);
    // The lists never change; a check is shown only if read after this client's last write and within the TTL.
    const fresh = entry !== undefined && (command.cmd !== "check" || (entry.version >= this.floor && now - entry.at < this.ttlMs));
    if (!fresh) {
      if (key !== undefined) this.misses++;
      return undefined;
    }
    this.hits++;
    return entry.lines;
  }

  /** What the servers answered; a write's version becomes the floor. */
  put(command: RoomsCommand, lines: string[], version: number, now = performance.now()): void {
    if (command.cmd === "reserve" || command.cmd === "cancel") {
      this.floor = Math.max(this.floor, version);
      return;
    }
    const key = keyOf(command);
    if (key !== undefined) this.entries.set(key, { lines, version, at: now });
  }
}

/** What may be cached: the lists and checks; writes and quit always go to the servers. */
function keyOf(command: RoomsCommand): string | undefined {
  switch (command.cmd) {
    case "rooms":
    case "timeslots":
    case "days":
      return command.cmd;
    case "check":
      return `check ${command.room}`;
    default:
      return undefined;
  }
}
