// The rooms group's failover time and the rooms client's cache hit ratio (seeds/004), for report.md.
// Part of `make bench`; `bun scripts/bench/rooms.ts [--rounds N] [--write]` runs it alone (--write:
// into report.md between the bench-rooms markers).
//
// Failover: three servers started by hand in a temporary run directory (default heartbeat timeout),
// a client writing through the lowest one (which forwards to the leader); each round SIGKILLs the
// leader and measures from the kill to the first reservation confirmed by the next leader, then
// starts a replacement with a higher election id and waits until the group agrees again.
// Cache: a scripted session of `./client ID --rooms` (the seed's commands, three times over).
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Peer, parseAddress } from "@switchyard/net";
import { Spawned, binary } from "@switchyard/testing";
import { cleanupAll, installCleanupHandlers, trackDir, trackPid } from "./cleanup.ts";
import { type Machine, describeMachine } from "./machine.ts";
import { writeSection } from "./report-file.ts";
import { max, median } from "./stats.ts";

export const ROOMS_START_MARKER = "<!-- bench-rooms:start -->";
export const ROOMS_END_MARKER = "<!-- bench-rooms:end -->";
const ROUNDS = 7;
/** The seed's client session (seeds/004), as typed. */
const SEED_SESSION = ["rooms", "timeslots", "check ME4326", "rooms", "days", "reserve ME4326 8:30-9:30 Friday", "check ME4326", "days"];

export type RoomsBenchResult =
  | { status: "measured"; failoverMs: number[]; hangMs: number[]; session: { commands: number; fromCache: number; fromServers: number }; elapsedS: number }
  | { status: "skipped"; reason: string };

export async function measureRooms(options: { tmp: string; rounds?: number; progress?: (line: string) => void }): Promise<RoomsBenchResult> {
  const say = options.progress ?? ((line: string) => console.log(`rooms: ${line}`));
  const started = performance.now();
  const dir = options.tmp;
  const servers: Spawned[] = [];
  /** Election id → the process and its server number. */
  const byId = new Map<number, { server: Spawned; n: number }>();
  const start = (n: number, electionId: number) => {
    const server = new Spawned([binary("server"), "--id", String(n), "--election-id", String(electionId), "--run-dir", dir, "--data-dir", join(dir, "data"), "--log-level", "info"]);
    trackPid(server.pid);
    servers.push(server);
    byId.set(electionId, { server, n });
    return server;
  };
  try {
    const ids = [100, 200, 300];
    ids.forEach((id, i) => start(i + 1, id));
    const entry = new Peer({ address: parseAddress(`unix:${join(dir, "server-1.sock")}`), role: "client", id: 1, timeoutMs: 5000 });
    let seq = 0;
    const reserveOnce = (slot: number) =>
      entry.request("rooms", { client: 1, session: "bench", seq: ++seq, cmd: "reserve", room: "MC5050", slot: ["8:30-9:30", "9:30-10:30", "10:30-11:30"][slot % 3], day: ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"][slot % 5] }, 2000, 1);
    const waitForWrite = async (timeoutMs: number): Promise<number> => {
      const from = performance.now();
      for (let attempt = 0; ; attempt++) {
        try {
          await reserveOnce(attempt);
          return performance.now() - from;
        } catch {
          if (performance.now() - from > timeoutMs) throw new Error(`no write confirmed within ${timeoutMs} ms`);
          await Bun.sleep(10);
        }
      }
    };
    await waitForWrite(20_000);
    const failoverMs: number[] = [];
    const hangMs: number[] = [];
    let next = 400;
    // Each round twice: a crash (SIGKILL: the connections close, noticed at once) and a hang
    // (SIGSTOP: noticed only when a heartbeat goes unanswered for the timeout).
    for (let round = 1; round <= (options.rounds ?? ROUNDS) * 2; round++) {
      const signal = round % 2 === 1 ? "SIGKILL" : "SIGSTOP";
      const leaderId = Math.max(...ids);
      const leader = byId.get(leaderId)!;
      const killedAt = performance.now();
      leader.server.kill(signal);
      await waitForWrite(20_000);
      const ms = performance.now() - killedAt;
      (signal === "SIGKILL" ? failoverMs : hangMs).push(ms);
      say(`round ${Math.ceil(round / 2)}: a write confirmed ${Math.round(ms)} ms after the leader's ${signal}`);
      if (signal === "SIGSTOP") leader.server.kill("SIGKILL");
      ids.splice(ids.indexOf(leaderId), 1);
      // The replacement takes the dead one's server number (and data) with a higher election id: the next leader.
      await leader.server.exited(5000);
      const replacement = start(leader.n, next);
      ids.push(next++);
      await replacement.waitForLine(new RegExp(`Election completed\\. Group Leader: ${Math.max(...ids)}`), 20_000);
      await waitForWrite(20_000);
    }
    entry.close();

    // The client's cache: the seed's session three times over, through server #1.
    const commands = [...SEED_SESSION, ...SEED_SESSION, ...SEED_SESSION, "quit"];
    const client = new Spawned([binary("client"), "107", "--rooms", "--connect", `unix:${join(dir, "server-1.sock")}`], { stdin: "pipe" });
    trackPid(client.pid);
    client.write(`${commands.join("\n")}\n`);
    client.endInput();
    await client.exited(30_000);
    const fromCache = (client.stdoutText.match(/\(From cache\): /g) ?? []).length;
    const fromServers = (client.stdoutText.match(/\(From servers\): /g) ?? []).length;
    return { status: "measured", failoverMs, hangMs, session: { commands: commands.length, fromCache, fromServers }, elapsedS: (performance.now() - started) / 1000 };
  } finally {
    for (const server of servers) server.kill("SIGKILL");
  }
}

export function renderRoomsSection(result: RoomsBenchResult, machine: Machine, command: string): string {
  const heading = "### Rooms: failover time and the client's cache";
  const when = `${machine.date.slice(0, 16).replace("T", " ")} UTC`;
  if (result.status === "skipped") return `${heading}\n\nSkipped by \`${command}\` on ${when}: ${result.reason}.`;
  const { failoverMs, hangMs, session } = result;
  const ratio = session.fromCache / (session.fromCache + session.fromServers);
  return [
    heading,
    "",
    `Measured by \`${command}\` on ${when}; this part took ${result.elapsedS.toFixed(0)} s. ${machine.cpu}, ${machine.cores} cores, Bun ${machine.bun}.`,
    "",
    `**Failover**: three servers started by hand (default \`--heartbeat-timeout-ms 1000\`), a client writing through the lowest one (which passes requests to the leader), retrying every 10 ms. Each round stops the leader, measures from then to the first reservation the next leader confirms, and starts a replacement with a higher election id (the next leader). ${failoverMs.length} crashes (SIGKILL: the leader's connections close, so the followers notice at once): median **${Math.round(median(failoverMs))} ms**, worst **${Math.round(max(failoverMs))} ms** (${failoverMs.map((ms) => Math.round(ms)).join(", ")}). ${hangMs.length} hangs (SIGSTOP: noticed only when a heartbeat goes unanswered for the timeout): median **${Math.round(median(hangMs))} ms**, worst **${Math.round(max(hangMs))} ms** (${hangMs.map((ms) => Math.round(ms)).join(", ")}).`,
    "",
    `**Client cache**: the seed's session (${SEED_SESSION.join(", ")}) three times over, then quit, in one \`./client 107 --rooms\`: ${session.fromCache} of ${session.fromCache + session.fromServers} answers from the cache (hit ratio **${ratio.toFixed(2)}**). The lists are cached for good; a \`check\` is cached for 5 s but never shown older than the client's own last write, so the check right after each reserve goes to the servers.`,
    "",
    "Reproduce: `bun scripts/bench/rooms.ts` (this part alone; `--write` puts it here) or `make bench`.",
  ].join("\n");
}

if (import.meta.main) {
  const args = process.argv.slice(2);
  const roundsAt = args.indexOf("--rounds");
  const rounds = roundsAt >= 0 ? Number(args[roundsAt + 1]) : ROUNDS;
  installCleanupHandlers(300_000);
  const tmp = mkdtempSync(join(tmpdir(), "sy-rooms-"));
  trackDir(tmp);
  let code = 0;
  try {
    const markdown = renderRoomsSection(await measureRooms({ tmp, rounds }), describeMachine(), "bun scripts/bench/rooms.ts");
    console.log(`\n${markdown}\n`);
    if (args.includes("--write")) writeSection(join(import.meta.dir, "..", "..", "report.md"), ROOMS_START_MARKER, ROOMS_END_MARKER, markdown);
  } catch (error) {
    console.error(`rooms benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    code = 1;
  } finally {
    cleanupAll();
  }
  process.exit(code);
}
