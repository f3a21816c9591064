import type { Subprocess } from "bun";
import { resolve } from "node:path";

/** The repository root, where `make` puts the five binaries. */
export const ROOT = resolve(import.meta.dir, "../../..");
export const binary = (name: "watchdog" | "load_balancer" | "reverse_proxy" | "server" | "client") => resolve(ROOT, name);

/**
 * A spawned binary whose stdout and stderr are collected line by line, so tests can wait for a
 * log line (an event) instead of sleeping.
 */
export class Spawned {
  readonly proc: Subprocess<"ignore" | "pipe", "pipe", "pipe">;
  readonly lines: string[] = [];
  /** The same lines, split by stream (order within one stream is the order the process wrote them). */
  readonly stdoutLines: string[] = [];
  readonly stderrLines: string[] = [];
  /** Everything written to stdout so far, including an unfinished last line (such as a prompt). */
  stdoutText = "";
  private waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
  private conditions: Array<() => void> = [];
  readonly done: Promise<void>;

  constructor(
    cmd: string[],
    options: {
      stdin?: "ignore" | "pipe";
      env?: Record<string, string | undefined>;
      cwd?: string;
      /** Start it in a session (and process group) of its own, as a shell does with a foreground job. */
      detached?: boolean;
    } = {},
  ) {
    this.proc = Bun.spawn(cmd, {
      stdin: options.stdin ?? "ignore",
      stdout: "pipe",
      stderr: "pipe",
      env: options.env ?? process.env,
      cwd: options.cwd,
      detached: options.detached ?? false,
    });
    live.add(this);
    this.done = Promise.all([this.collect(this.proc.stdout, this.stdoutLines), this.collect(this.proc.stderr, this.stderrLines)]).then(
      () => undefined,
    );
    this.proc.exited.then(() => live.delete(this));
  }

  /** Types into the process's stdin (spawned with `stdin: "pipe"`). */
  write(text: string): void {
    const stdin = this.proc.stdin;
    if (typeof stdin !== "object" || stdin === null) throw new Error(`pid ${this.pid} was not started with stdin: "pipe"`);
    stdin.write(text);
    stdin.flush();
  }

  /** Closes stdin: end of input, as Ctrl-D at the start of a line. */
  endInput(): void {
    const stdin = this.proc.stdin;
    if (typeof stdin !== "object" || stdin === null) throw new Error(`pid ${this.pid} was not started with stdin: "pipe"`);
    stdin.end();
  }

  /** Resolves once `text` has appeared `times` times on stdout (prompts have no newline, so waitForLine cannot see them). */
  waitForText(text: string, timeoutMs = 20_000, times = 1): Promise<void> {
    return this.waitFor(() => countOccurrences(this.stdoutText, text) >= times, timeoutMs, `${times} × ${JSON.stringify(text)} on stdout`);
  }

  /** Resolves with the matching lines once at least `count` lines match. */
  async waitForLines(pattern: RegExp | string, count: number, timeoutMs = 20_000): Promise<string[]> {
    const match = (line: string) => (typeof pattern === "string" ? line.includes(pattern) : pattern.test(line));
    await this.waitFor(() => this.lines.filter(match).length >= count, timeoutMs, `${count} lines matching ${pattern}`);
    return this.lines.filter(match);
  }

  /** Resolves when `condition` (re-checked whenever output arrives) holds; rejects after `timeoutMs` with the log so far. */
  waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.conditions = this.conditions.filter((c) => c !== check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.conditions = this.conditions.filter((c) => c !== check);
        reject(new Error(`no ${what} within ${timeoutMs} ms; output so far:\n${this.output}`));
      }, timeoutMs);
      this.conditions.push(check);
    });
  }

  get pid(): number {
    return this.proc.pid;
  }
  get output(): string {
    return this.lines.join("\n");
  }

  /** Resolves with the first line (already seen or still to come) matching; rejects after `timeoutMs` with the log so far. */
  waitForLine(pattern: RegExp | string, timeoutMs = 20_000): Promise<string> {
    const match = (line: string) => (typeof pattern === "string" ? line.includes(pattern) : pattern.test(line));
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve: (line: string) => (clearTimeout(timer), resolve(line)) };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no line matching ${pattern} within ${timeoutMs} ms; output so far:\n${this.output}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Waits for exit (bounded); returns the exit code, or null if killed by a signal. */
  async exited(timeoutMs = 20_000): Promise<number | null> {
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`pid ${this.pid} still running after ${timeoutMs} ms; output:\n${this.output}`)), timeoutMs);
    });
    try {
      await Promise.race([this.proc.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
    await this.done;
    return this.proc.exitCode;
  }

  kill(signal: NodeJS.Signals = "SIGKILL"): void {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
  }

  private async collect(stream: ReadableStream<Uint8Array>, own: string[]): Promise<void> {
    let partial = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const text = decoder.decode(chunk, { stream: true });
      if (own === this.stdoutLines) this.stdoutText += text;
      partial += text;
      let nl = partial.indexOf("\n");
      while (nl >= 0) {
        this.addLine(partial.slice(0, nl), own);
        partial = partial.slice(nl + 1);
        nl = partial.indexOf("\n");
      }
      for (const check of [...this.conditions]) check();
    }
    if (partial) this.addLine(partial, own);
    for (const check of [...this.conditions]) check();
  }

  private addLine(line: string, own: string[]): void {
    this.lines.push(line);
    own.push(line);
    for (const waiter of this.waiters.filter((w) => w.match(line))) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(line);
    }
  }
}

function countOccurrences(haystack: string, needle: string): number {
  let count = 0;
  for (let at = haystack.indexOf(needle); at >= 0; at = haystack.indexOf(needle, at + needle.length)) count++;
  return count;
}

const live = new Set<Spawned>();

/** SIGKILLs every process spawned through this module that is still running (afterEach / afterAll). */
export function killAllSpawned(): void {
  for (const spawned of live) spawned.kill("SIGKILL");
}
