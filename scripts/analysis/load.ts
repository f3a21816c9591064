// The analysis's HTTP load: `GET /home` through a fleet's front door, a bounded number in flight at
// once, every answer read for the server that gave it ("Hello from Server: N"). Bounded in count
// and in time; a request that gets no answer within its timeout counts as failed.

export interface Answer {
  /** When the answer (or the failure) arrived, ms since the load started. */
  readonly at: number;
  /** The server named in the answer, or null when the request failed. */
  readonly server: number | null;
  /** Why it failed: "HTTP 502", "timeout", the fetch error; undefined when it was answered. */
  readonly error?: string;
}

export interface LoadOptions {
  /** How many requests at most. */
  readonly count: number;
  /** How many in flight at once (the rest wait for a free slot). */
  readonly concurrency: number;
  /** Stop starting requests after this long (ms); those in flight still finish. */
  readonly durationMs: number;
  /** Per request. */
  readonly timeoutMs: number;
  /** The time origin of `Answer.at` (a performance.now() reading); default: when the load starts. */
  readonly start?: number;
  /** Called after each answer, for a progress bar. */
  readonly onAnswer?: (done: number) => void;
}

export interface LoadResult {
  readonly answers: Answer[];
  /** Requests answered per server number. */
  readonly perServer: Map<number, number>;
  readonly failed: number;
  /** The distinct failure reasons, with how often each happened. */
  readonly errors: Map<string, number>;
  readonly elapsedMs: number;
}

const SERVER = /Hello from Server: (\d+)/;

/** One request: the server that answered, or why none did. */
async function home(url: string, timeoutMs: number): Promise<{ server: number } | { error: string }> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const text = await response.text();
    if (response.status !== 200) return { error: `HTTP ${response.status}` };
    const n = SERVER.exec(text)?.[1];
    return n === undefined ? { error: `unexpected answer ${JSON.stringify(text.slice(0, 80))}` } : { server: Number(n) };
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    return { error: name === "TimeoutError" ? "timeout" : error instanceof Error ? error.message : String(error) };
  }
}

/** Sends up to `count` requests to `<base>/home`, `concurrency` at a time, for at most `durationMs`. */
export async function sendLoad(base: string, options: LoadOptions): Promise<LoadResult> {
  const url = `${base}/home`;
  const answers: Answer[] = [];
  const perServer = new Map<number, number>();
  const errors = new Map<string, number>();
  const start = options.start ?? performance.now();
  let started = 0;

  const worker = async () => {
    while (started < options.count && performance.now() - start < options.durationMs) {
      started++;
      const outcome = await home(url, options.timeoutMs);
      const at = performance.now() - start;
      if ("server" in outcome) {
        answers.push({ at, server: outcome.server });
        perServer.set(outcome.server, (perServer.get(outcome.server) ?? 0) + 1);
      } else {
        answers.push({ at, server: null, error: outcome.error });
        errors.set(outcome.error, (errors.get(outcome.error) ?? 0) + 1);
      }
      options.onAnswer?.(answers.length);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.count) }, worker));
  const failed = [...errors.values()].reduce((a, b) => a + b, 0);
  return { answers, perServer, failed, errors, elapsedMs: performance.now() - start };
}
