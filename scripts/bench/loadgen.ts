// The load generator, run as its own process: `bun scripts/bench/loadgen.ts '<LoadConfig JSON>'`.
// It opens one Peer (one connection) per simulated client, keeps `depth` sqrt requests in flight on
// each, and after a warm-up counts what completes during a fixed window. Its last stdout line is
// `RESULT <LoadResult JSON>`. It also snapshots the CPU ticks of the given pids at the exact
// start and end of the window, so per-process CPU and request counts cover the same interval.
import { NetError, Peer, parseAddress } from "@switchyard/net";
import { type MachineTicks, machineTicks, machineTicksBetween, snapshotTicks, ticksBetween } from "./cpu.ts";
import { type LatencySummary, LatencyRecorder } from "./stats.ts";

export interface LoadConfig {
  /** unix:/path.sock of the load balancer or of a server. */
  address: string;
  connections: number;
  /** Requests kept in flight on each connection. */
  depth: number;
  warmupMs: number;
  durationMs: number;
  /** Deadline of each request. */
  timeoutMs: number;
  /** Processes whose CPU time is sampled at the window's edges. */
  cpuPids: number[];
}

export interface LoadResult {
  /** Requests answered correctly within the window. */
  requests: number;
  seconds: number;
  rps: number;
  latencyMs: LatencySummary;
  /** Requests that failed (any NetError) within the window, by code. */
  errors: number;
  errorKinds: Record<string, number>;
  /** Answers checked against Math.sqrt (every answer, warm-up included) and how many were wrong. */
  checked: number;
  wrong: number;
  firstWrong?: string;
  /** CPU ticks each sampled pid used during the window. */
  cpuTicks: Record<string, number>;
  /** The generator's own CPU time during the window, µs (user + system). */
  generatorCpuUs: number;
  /** Machine-wide ticks during the window (to see how much other processes took). */
  machine: MachineTicks;
}

const RESULT_PREFIX = "RESULT ";

export function parseResultLine(lines: readonly string[]): LoadResult | undefined {
  const line = lines.findLast((l) => l.startsWith(RESULT_PREFIX));
  return line === undefined ? undefined : (JSON.parse(line.slice(RESULT_PREFIX.length)) as LoadResult);
}

export async function generateLoad(config: LoadConfig): Promise<LoadResult> {
  const address = parseAddress(config.address);
  const peers = Array.from({ length: config.connections }, (_, i) => new Peer({ address, role: "client", id: i + 1, connectTimeoutMs: 3000, timeoutMs: config.timeoutMs }));
  await waitOpen(peers, 5000);

  const latencies = new LatencyRecorder();
  let measuring = false;
  let stopping = false;
  let requests = 0;
  let errors = 0;
  const errorKinds: Record<string, number> = {};
  let checked = 0;
  let wrong = 0;
  let firstWrong: string | undefined;
  let seq = 0;
  let outstanding = 0;
  let allDone: (() => void) | undefined;

  const finishLane = () => {
    outstanding--;
    if (outstanding === 0) allDone?.();
  };

  // One lane = one request slot on one connection: when its request ends, it sends the next one.
  const lane = (peer: Peer, client: number) => {
    if (stopping) return finishLane();
    const value = seq++ & 0xfffff;
    const sentAt = performance.now();
    peer.request("sqrt", { client, value }, config.timeoutMs, client).then(
      (body) => {
        const result = (body as { result?: unknown } | null)?.result;
        checked++;
        if (result !== Math.sqrt(value)) {
          wrong++;
          firstWrong ??= `sqrt(${value}) answered ${JSON.stringify(body)}`;
        } else if (measuring) {
          requests++;
          latencies.add(performance.now() - sentAt);
        }
        lane(peer, client);
      },
      (error: unknown) => {
        if (measuring) {
          errors++;
          const code = error instanceof NetError ? (error.remoteCode ?? error.code) : "other";
          errorKinds[code] = (errorKinds[code] ?? 0) + 1;
        }
        // A failed request may fail again at once (connection down): pause the lane instead of spinning.
        setTimeout(() => lane(peer, client), 5);
      },
    );
  };

  peers.forEach((peer, i) => {
    for (let d = 0; d < config.depth; d++) {
      outstanding++;
      lane(peer, i + 1);
    }
  });

  await Bun.sleep(config.warmupMs);
  const cpuBefore = snapshotTicks(config.cpuPids);
  const machineBefore = machineTicks();
  const selfBefore = process.cpuUsage();
  const windowStart = performance.now();
  measuring = true;
  await Bun.sleep(config.durationMs);
  measuring = false;
  const windowEnd = performance.now();
  const selfUsed = process.cpuUsage(selfBefore);
  const cpuAfter = snapshotTicks(config.cpuPids);
  const machineUsed = machineTicksBetween(machineBefore, machineTicks());
  stopping = true;

  // Let the requests still in flight end (bounded by their deadline), then close the connections.
  await Promise.race([new Promise<void>((resolve) => (allDone = resolve)), Bun.sleep(config.timeoutMs + 500)]);
  for (const peer of peers) peer.close();

  const seconds = (windowEnd - windowStart) / 1000;
  return {
    requests,
    seconds,
    rps: requests / seconds,
    latencyMs: latencies.summary(),
    errors,
    errorKinds,
    checked,
    wrong,
    ...(firstWrong === undefined ? {} : { firstWrong }),
    cpuTicks: ticksBetween(cpuBefore, cpuAfter),
    generatorCpuUs: selfUsed.user + selfUsed.system,
    machine: machineUsed,
  };
}

async function waitOpen(peers: readonly Peer[], timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!peers.every((p) => p.state === "open")) {
    if (performance.now() > deadline) {
      const open = peers.filter((p) => p.state === "open").length;
      throw new Error(`only ${open} of ${peers.length} connections opened within ${timeoutMs} ms`);
    }
    await Bun.sleep(5);
  }
}

if (import.meta.main) {
  const config = JSON.parse(process.argv[2] ?? "") as LoadConfig;
  try {
    const result = await generateLoad(config);
    console.log(RESULT_PREFIX + JSON.stringify(result));
    process.exit(0);
  } catch (error) {
    console.error(`load generator failed: ${(error as Error).message}`);
    process.exit(1);
  }
}
