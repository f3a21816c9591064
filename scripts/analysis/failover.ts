// A-3 of seeds/002: every endpoint of the load balancer exercised, then a server SIGKILLed while
// requests flow. What a user sees: requests per server in 100 ms bins (the failure, the
// replacement, the load coming back), how long the replacement took, and how many requests failed.
import { startFlatFleet } from "./fleets.ts";
import { type LoadResult, sendLoad } from "./load.ts";

export interface EndpointCheck {
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  /** What the seed's API should answer. */
  readonly expected: number;
  readonly status: number;
  /** The answer's body, shortened to one line. */
  readonly answer: string;
}

export interface FailoverOptions {
  readonly servers: number;
  readonly policy: string;
  /** Which server is killed, and when (ms after the load starts). */
  readonly victim: number;
  readonly killAtMs: number;
  readonly durationMs: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  readonly binMs: number;
  /** Requests sent (and not counted) before the measured load, so it runs on warmed-up processes. */
  readonly warmupRequests: number;
}

export interface FailoverRun {
  readonly options: FailoverOptions;
  readonly endpoints: EndpointCheck[];
  /** Requests answered by each server in each bin (bin = its start, ms after the load started). */
  readonly bins: Array<{ readonly t: number; readonly server: number; readonly requests: number }>;
  readonly load: Omit<LoadResult, "answers">;
  readonly oldPid: number;
  readonly newPid: number;
  /** When the kill was sent, ms after the load started. */
  readonly killedAt: number;
  /** When the watchdog's "is back" line arrived, ms after the load started. */
  readonly backAt: number;
  /** The watchdog's own figure: from reaping the dead server to its replacement reporting ready. */
  readonly watchdogMs: number;
  /**
   * The killed server's silence as the clients saw it: the longest pause between two of its answers
   * around the kill, from its last answer (the old process's; answers it had written before dying
   * can arrive just after the kill) to the first from its replacement, both in ms after the kill;
   * null when it never answered again.
   */
  readonly silence: { readonly from: number; readonly to: number } | null;
}

const BACK = (victim: number) => new RegExp(`Server #${victim} is back \\(pid (\\d+), serving (\\d+) ms after its death\\)`);

/** The seed's endpoints in the order a user would try them, with what each should answer. */
const CALLS: ReadonlyArray<{ method: string; path: string; body?: object; expected: number }> = [
  { method: "GET", path: "/rep", expected: 200 },
  { method: "GET", path: "/home", expected: 200 },
  { method: "GET", path: "/heartbeat", expected: 200 },
  { method: "POST", path: "/add", body: { n: 1, hostnames: ["S4"] }, expected: 200 },
  { method: "GET", path: "/rep", expected: 200 },
  { method: "DELETE", path: "/rm", body: { n: 1, hostnames: ["S4"] }, expected: 200 },
  { method: "POST", path: "/add", body: { n: 1, hostnames: ["S5", "S6"] }, expected: 400 },
  { method: "DELETE", path: "/rm", body: { n: 1, hostnames: ["nobody"] }, expected: 400 },
  { method: "POST", path: "/add", body: { n: -2 }, expected: 400 },
  { method: "GET", path: "/other", expected: 400 },
  { method: "PUT", path: "/rep", expected: 405 },
];

async function exercise(base: string): Promise<EndpointCheck[]> {
  const checks: EndpointCheck[] = [];
  for (const call of CALLS) {
    const body = call.body === undefined ? undefined : JSON.stringify(call.body);
    const response = await fetch(`${base}${call.path}`, { method: call.method, body, signal: AbortSignal.timeout(20_000) });
    const text = (await response.text()).replace(/\s+/g, " ").trim();
    checks.push({ method: call.method, path: call.path, body, expected: call.expected, status: response.status, answer: text.length > 140 ? `${text.slice(0, 137)}…` : text });
  }
  return checks;
}

export async function runFailover(options: FailoverOptions, progress: (fraction: number) => void): Promise<FailoverRun> {
  const fleet = await startFlatFleet(options.servers, options.policy);
  try {
    const endpoints = await exercise(fleet.base);
    const oldPid = fleet.fleet.pidOf(`server --id ${options.victim} `);
    if (oldPid === undefined) throw new Error(`no pid for server ${options.victim} in ${fleet.fleet.runDir}`);

    // Uncounted warm-up: a fresh fleet's JIT is still settling, which would make "before the kill" slower than "after".
    await sendLoad(fleet.base, { count: options.warmupRequests, concurrency: options.concurrency, durationMs: options.durationMs, timeoutMs: options.timeoutMs });

    const start = performance.now();
    const load = sendLoad(fleet.base, { count: 1_000_000, concurrency: options.concurrency, durationMs: options.durationMs, timeoutMs: options.timeoutMs, start });
    const ticker = setInterval(() => progress((performance.now() - start) / options.durationMs), 100);
    await Bun.sleep(options.killAtMs);
    const back = fleet.fleet.watchdog.waitForLine(BACK(options.victim), 30_000).then((line) => ({ line, at: performance.now() - start }));
    process.kill(oldPid, "SIGKILL");
    const killedAt = performance.now() - start;
    const [result, returned] = await Promise.all([load, back]).finally(() => clearInterval(ticker));

    const [, newPid = "0", watchdogMs = "0"] = BACK(options.victim).exec(returned.line) ?? [];
    const { answers, ...rest } = result;
    return {
      options,
      endpoints,
      bins: binned(answers, options),
      load: rest,
      oldPid,
      newPid: Number(newPid),
      killedAt,
      backAt: returned.at,
      watchdogMs: Number(watchdogMs),
      silence: silenceAround(answers, options.victim, killedAt),
    };
  } finally {
    await fleet.stop();
  }
}

/** The longest pause between consecutive answers from `server` that ends after the kill and starts within a second of it. */
function silenceAround(answers: LoadResult["answers"], server: number, killedAt: number): FailoverRun["silence"] {
  const times = answers.filter((a) => a.server === server).map((a) => a.at);
  let longest: FailoverRun["silence"] = null;
  for (let i = 1; i < times.length; i++) {
    const [from, to] = [times[i - 1]!, times[i]!];
    if (to > killedAt && from < killedAt + 1000 && (longest === null || to - from > longest.to - longest.from)) longest = { from: from - killedAt, to: to - killedAt };
  }
  return longest;
}

/** Answers per server per bin; every server has a row in every bin (0 included), so the chart shows gaps as drops to 0. Failures are counted in the load's totals. */
function binned(answers: LoadResult["answers"], options: FailoverOptions): FailoverRun["bins"] {
  const binCount = Math.ceil(options.durationMs / options.binMs);
  const counts = Array.from({ length: options.servers }, () => new Array<number>(binCount).fill(0));
  for (const answer of answers) {
    if (answer.server === null || answer.server > options.servers) continue;
    counts[answer.server - 1]![Math.min(binCount - 1, Math.floor(answer.at / options.binMs))]!++;
  }
  return counts.flatMap((row, s) => row.map((requests, b) => ({ t: b * options.binMs, server: s + 1, requests })));
}
