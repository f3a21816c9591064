// The fleet's log is how a user follows what happens (seeds/000: "it should be easy to track what
// is going on by looking at the log"), so every request must leave its lines, also under load and
// also when whatever reads the log falls behind for a while.
import { afterEach, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { RawSocket, Spawned, binary, fleetPids, makeTempDir } from "@switchyard/testing";
import { cleanUpAfterEach, fleetFor, spawnClients } from "./_support.ts";
import { decode, hello, sqrtRequest } from "./_wire.ts";

cleanUpAfterEach();

/** Lines each hop must have written for request `i` (client i sends i²). */
function expectedLines(i: number): RegExp[] {
  const proxy = i % 2 === 1 ? 1 : 2;
  const servers = proxy === 1 ? "[1-3]" : "[4-6]";
  return [
    new RegExp(`^\\[Load Balancer\\]: Request from Client #${i}\\. Forwarding to Proxy #${proxy}$`),
    new RegExp(`^\\[Reverse Proxy #${proxy}\\]: Request from Client #${i}\\. Forwarding to Server #${servers}$`),
    new RegExp(`^\\[Server #${servers}\\]: Received the value ${i * i} from Client #${i}\\. Returning ${i}\\.0\\.$`),
  ];
}

test(
  "a burst of 200 clients: every request leaves one line at the load balancer, its proxy and its server",
  async () => {
    const fleet = await fleetFor();
    const ids = Array.from({ length: 200 }, (_, k) => k + 1);
    const clients = await spawnClients(fleet, ids, (i) => i * i, ["--timeout-ms", "30000"]);
    const codes = await Promise.all(clients.map((client) => client.exited(90_000)));
    expect(codes.every((code) => code === 0)).toBe(true);

    // Every line was written before its answer left the fleet; the last ones may still be on their way to us.
    const missing: string[] = [];
    for (const i of ids) {
      for (const pattern of expectedLines(i)) {
        await fleet.watchdog.waitForLine(pattern, missing.length === 0 ? 10_000 : 100).catch(() => missing.push(String(pattern)));
      }
    }
    expect({ missing: missing.length, first: missing.slice(0, 5) }).toEqual({ missing: 0, first: [] });
  },
  180_000,
);

// `./watchdog | cat` (or `| tee fleet.log`, `| less`): the reader may stall for a while; the log
// must still hold every line once it catches up.
let pipelineCleanUp: (() => void) | undefined;
afterEach(() => {
  pipelineCleanUp?.();
  pipelineCleanUp = undefined;
});

test(
  "./watchdog | cat with cat stopped for a while: no log line is lost or garbled",
  async () => {
    const runDir = makeTempDir();
    // The pipeline gets a process group of its own, so the clean-up can kill it (sh, watchdog, cat) at once.
    const pipeline = new Spawned(["sh", "-c", `"$0" --run-dir "$1" 2>&1 | cat`, binary("watchdog"), runDir], { detached: true });
    pipelineCleanUp = () => {
      try {
        process.kill(-pipeline.pid, "SIGKILL");
      } catch {
        // Already gone.
      }
      for (const pid of fleetPids(runDir)) process.kill(pid, "SIGKILL");
    };
    await pipeline.waitForLine("Fleet ready", 30_000);
    const ps = Bun.spawnSync(["ps", "-o", "pid=,args=", "--ppid", String(pipeline.pid)]).stdout.toString();
    const cat = Number.parseInt(ps.split("\n").find((line) => / cat$/.test(line.trim()) || line.trim().endsWith("cat")) ?? "", 10);
    expect(cat).toBeGreaterThan(0);

    // The reader stops (like a pager that has filled its screen); 2000 requests (some 480 kB of log) go through meanwhile.
    process.kill(cat, "SIGSTOP");
    const count = 2000;
    const socket = await RawSocket.connect(join(runDir, "load_balancer.sock"));
    socket.write(hello("client", 1));
    for (let i = 1; i <= count; i++) socket.write(sqrtRequest(i, i, i * i));
    expect(await socket.framesWithin(count + 1, 60_000)).toBe(true);
    const answers = socket.frames.slice(1).map(decode);
    expect(answers.filter((a) => a.t !== "res")).toEqual([]);
    expect(answers.map((a) => (a.body as { result?: unknown }).result).sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: count }, (_, k) => k + 1),
    );
    socket.close();

    // The reader resumes; then the fleet is stopped, so every line it ever wrote has reached us when the pipeline ends.
    process.kill(cat, "SIGCONT");
    const watchdog = Number(readFileSync(join(runDir, "watchdog.pid"), "utf8"));
    process.kill(watchdog, "SIGTSTP");
    expect(await pipeline.exited(60_000)).toBe(0);
    expect(pipeline.lines.at(-1)).toBe("[Watchdog]: All processes terminated. Good bye.");

    // Every line is whole (no two processes' lines spliced together) and none is missing.
    const garbled = pipeline.lines.filter((line) => !/^\[(Watchdog|Load Balancer|Reverse Proxy #\d+|Server #\d+)\]: \S.*$/.test(line) || /.\[(Watchdog|Load Balancer|Reverse Proxy #\d+|Server #\d+)\]: /.test(line));
    expect(garbled.slice(0, 5)).toEqual([]);
    const missing: string[] = [];
    for (let i = 1; i <= count; i++) {
      for (const pattern of expectedLines(i)) if (!pipeline.lines.some((line) => pattern.test(line))) missing.push(String(pattern));
    }
    expect({ missing: missing.length, of: 3 * count, first: missing.slice(0, 3) }).toEqual({ missing: 0, of: 3 * count, first: [] });
  },
  120_000,
);
