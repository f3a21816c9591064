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
  private waiters: Array<{ match: (line: string) => boolean; resolve: (line: string) => void }> = [];
  readonly done: Promise<void>;

  constructor(cmd: string[], options: { stdin?: "ignore" | "pipe"; env?: Record<string, string | undefined>; cwd?: string } = {}) {
    this.proc = Bun.spawn(cmd, { stdin: options.stdin ?? "ignore", stdout: "pipe", stderr: "pipe", env: options.env ?? process.env, cwd: options.cwd });
    live.add(this);
    this.done = Promise.all([this.collect(this.proc.stdout), this.collect(this.proc.stderr)]).then(() => undefined);
    this.proc.exited.then(() => live.delete(this));
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

  private async collect(stream: ReadableStream<Uint8Array>): Promise<void> {
    let partial = "";
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      partial += decoder.decode(chunk, { stream: true });
      let nl = partial.indexOf("\n");
      while (nl >= 0) {
        this.addLine(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
        nl = partial.indexOf("\n");
      }
    }
    if (partial) this.addLine(partial);
  }

  private addLine(line: string): void {
    this.lines.push(line);
    for (const waiter of this.waiters.filter((w) => w.match(line))) {
      this.waiters = this.waiters.filter((w) => w !== waiter);
      waiter.resolve(line);
    }
  }
}

const live = new Set<Spawned>();

/** SIGKILLs every process spawned through this module that is still running (afterEach / afterAll). */
export function killAllSpawned(): void {
  for (const spawned of live) spawned.kill("SIGKILL");
}
