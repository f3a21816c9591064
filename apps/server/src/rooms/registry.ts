import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Member } from "./group.ts";

/**
 * Group discovery through a shared directory: each server writes a file named after its election
 * id holding its address, and reads the others'. On one machine the run directory is shared by
 * every server of a fleet (and by one started by hand with the same --run-dir); across hosts, any
 * directory they share (NFS) works the same. A crashed server's file stays behind: a member whose
 * Unix socket is gone is certainly dead (members register only once they listen) and its entry is
 * removed when seen; one on TCP is only a member that does not answer, which elections and
 * heartbeats already handle.
 */
export class GroupRegistry {
  constructor(
    private readonly dir: string,
    private readonly self: Member,
  ) {}

  /** Registers this server, and drops any earlier entry at its address (a predecessor that died there). */
  join(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const member of this.members()) if (member.address === this.self.address) rmSync(join(this.dir, String(member.id)), { force: true });
    writeFileSync(join(this.dir, String(this.self.id)), this.self.address, { mode: 0o600 });
  }

  /** Unregisters; the last one out removes the directory (a stopped fleet leaves its run directory empty). */
  leave(): void {
    rmSync(join(this.dir, String(this.self.id)), { force: true });
    try {
      rmdirSync(this.dir);
    } catch {
      // Others are still registered.
    }
  }

  members(): Member[] {
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch {
      return [];
    }
    const members: Member[] = [];
    for (const name of names) {
      if (!/^\d+$/.test(name) || Number(name) === this.self.id) continue;
      try {
        const file = join(this.dir, name);
        const address = readFileSync(file, "utf8").trim();
        if (address.startsWith("unix:") && !existsSync(address.slice("unix:".length))) rmSync(file, { force: true });
        else if (address !== "") members.push({ id: Number(name), address });
      } catch {
        // Gone meanwhile.
      }
    }
    return members;
  }
}
