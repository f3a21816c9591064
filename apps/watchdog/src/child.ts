import type { Subprocess } from "bun";
import type { Logger } from "@switchyard/log";
import { relayLines } from "./log-relay.ts";
import type { ChildSpec } from "./plan.ts";
import { DEFAULT_RESTART_POLICY, type RestartPolicyOptions, createRestartPolicy } from "./restart-policy.ts";

export interface ChildOptions {
  spec: ChildSpec;
  log: Logger;
  readyTimeoutMs: number;
  restartPolicy?: RestartPolicyOptions;
  /** The process died unexpectedly (`false`) or reported ready again after a death (`true`). */
  onLifecycle?(spec: ChildSpec, alive: boolean): void;
  /** It exited with a configuration error before it was ever ready: it is not restarted (see `failure`). */
  onFatal?(spec: ChildSpec): void;
}

/** What /rep shows: first start, serving, dead or not yet back after a death, being stopped. */
export type ChildState = "starting" | "up" | "restarting" | "stopping";

/**
 * Exit codes that say "this configuration cannot work" (sysexits.h): EX_CONFIG (78, e.g. the load
 * balancer's HTTP port is taken) and EX_USAGE (64, a flag the binary does not know). Restarting
 * would only loop; before a child was ever ready they are fatal.
 */
const CONFIG_EXIT_CODES = new Set([64, 78]);

/** "SIGKILL" or "exit code 3": how a process ended. */
export function describeExit(proc: Subprocess): string {
  return proc.signalCode ? String(proc.signalCode) : `exit code ${proc.exitCode}`;
}

/**
 * One member of the fleet: started, watched, restarted with the same identity and socket when it
 * dies (with crash-loop backoff), and stopped on request. Readiness comes from the control socket.
 */
export class SupervisedChild {
  readonly spec: ChildSpec;
  private proc: Subprocess<"ignore", "pipe", "pipe"> | null = null;
  /** Settles when the current process has exited and its last output lines are relayed. */
  private ended: Promise<void> = Promise.resolve();
  private readonly log: Logger;
  private readonly backoff;
  private readonly restartWindowMs: number;
  private readonly readyTimeoutMs: number;
  private stopping = false;
  private diedAt: number | null = null;
  private readyTimer: Timer | null = null;
  private restartTimer: Timer | null = null;
  private readyWaiters: Array<() => void> = [];
  private isReady = false;
  private everReady = false;
  private respawns = 0;
  private stopped: Promise<void> | null = null;
  private fatal: string | null = null;
  private readyData: Record<string, unknown> = {};
  private spawnedAt: number | null = null;
  private readonly onLifecycle: ChildOptions["onLifecycle"];
  private readonly onFatal: ChildOptions["onFatal"];

  constructor(options: ChildOptions) {
    this.onLifecycle = options.onLifecycle;
    this.onFatal = options.onFatal;
    this.spec = options.spec;
    this.log = options.log;
    this.readyTimeoutMs = options.readyTimeoutMs;
    const policy = options.restartPolicy ?? DEFAULT_RESTART_POLICY;
    this.backoff = createRestartPolicy(policy);
    this.restartWindowMs = policy.windowMs;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }
  get ready(): boolean {
    return this.isReady;
  }
  /** The pid of the process while it runs; null while dead or not yet spawned. */
  get runningPid(): number | null {
    const proc = this.proc;
    return proc && proc.exitCode === null && proc.signalCode === null ? proc.pid : null;
  }
  get state(): ChildState {
    if (this.stopping) return "stopping";
    if (this.isReady) return "up";
    return this.everReady || this.respawns > 0 ? "restarting" : "starting";
  }
  /** How many times it was re-created after a death. */
  get restarts(): number {
    return this.respawns;
  }
  /** Why it was given up on ("exit code 78 before it was ever ready"), or null. */
  get failure(): string | null {
    return this.fatal;
  }
  /** Seconds since the running process was spawned; null while it is not running. */
  get uptimeSeconds(): number | null {
    return this.runningPid === null || this.spawnedAt === null ? null : (Date.now() - this.spawnedAt) / 1000;
  }
  /** What it said in its last `ready`: its pid, where it listens, the load balancer its HTTP URL. */
  get readyInfo(): Readonly<Record<string, unknown>> {
    return this.readyData;
  }

  /** Spawns the process; the returned promise resolves when it reports ready (or at once if stopping). */
  start(): Promise<void> {
    const ready = this.whenReady();
    this.spawn();
    return ready;
  }

  whenReady(): Promise<void> {
    if (this.isReady || this.stopping) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** The child said `ready` on the control socket. */
  markReady(pid: number, data: Record<string, unknown> = {}): void {
    if (this.proc?.pid !== pid || this.isReady) return;
    this.isReady = true;
    this.everReady = true;
    this.readyData = data;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    if (this.diedAt !== null) {
      this.log.info(`${this.spec.label} is back (pid ${pid}, serving ${Math.round(performance.now() - this.diedAt)} ms after its death)`);
      this.diedAt = null;
      this.onLifecycle?.(this.spec, true);
    }
    for (const wake of this.readyWaiters.splice(0)) wake();
  }

  /** From now on a death is final: no restart (the fleet is shutting down). */
  retire(): void {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.readyTimer) clearTimeout(this.readyTimer);
    for (const wake of this.readyWaiters.splice(0)) wake();
  }

  /** SIGTERM, wait up to `timeoutMs` for it to drain and exit, then SIGKILL. Once: a second SIGTERM would make it skip draining. */
  stop(timeoutMs: number): Promise<void> {
    this.stopped ??= this.terminate(timeoutMs);
    return this.stopped;
  }

  private async terminate(timeoutMs: number): Promise<void> {
    this.retire();
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return this.ended;
    proc.kill("SIGTERM");
    let timer: Timer | undefined;
    const exited = await Promise.race([
      this.ended.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (!exited) {
      this.log.warn(`${this.spec.label} did not exit within ${timeoutMs / 1000} s of SIGTERM. Killing it (SIGKILL).`);
      proc.kill("SIGKILL");
      await this.ended;
    }
  }

  /** Immediate SIGKILL, for a second Ctrl-C. */
  kill(): void {
    this.stopping = true;
    this.proc?.kill("SIGKILL");
  }

  private spawn(): void {
    this.isReady = false;
    let proc: Subprocess<"ignore", "pipe", "pipe">;
    try {
      proc = Bun.spawn([this.spec.binary, ...this.spec.args()], {
        ...(this.spec.env ? { env: { ...process.env, ...this.spec.env } } : {}),
        stdin: "ignore",
        // Each child has its own pipes and the watchdog relays whole lines (see log-relay.ts).
        stdout: "pipe",
        stderr: "pipe",
        // Its own session: Ctrl-C and Ctrl-Z in the watchdog's terminal reach only the watchdog,
        // which then shuts the fleet down in order.
        detached: true,
      });
    } catch (error) {
      this.log.error(`Cannot start ${this.spec.label} (${this.spec.binary}): ${(error as Error).message}`);
      this.scheduleRestart();
      return;
    }
    this.proc = proc;
    this.spawnedAt = Date.now();
    const relayed = Promise.allSettled([relayLines(proc.stdout, 1), relayLines(proc.stderr, 2)]);
    // The last lines are normally out as soon as the pipes close; never wait long for them.
    this.ended = proc.exited.then(
      () => Promise.race([relayed, Bun.sleep(1000)]).then(() => undefined),
      () => undefined,
    );
    this.readyTimer = setTimeout(() => {
      this.log.error(`${this.spec.label} did not become ready within ${this.readyTimeoutMs} ms. Killing it.`);
      proc.kill("SIGKILL");
    }, this.readyTimeoutMs);
    // Routers hear of a death as soon as the process is gone; the restart waits for its last log lines.
    proc.exited.then(() => {
      if (proc === this.proc && !this.stopping) this.onLifecycle?.(this.spec, false);
    });
    this.ended.then(() => this.onExit(proc));
  }

  private onExit(proc: Subprocess): void {
    if (proc !== this.proc) return;
    if (this.readyTimer) clearTimeout(this.readyTimer);
    this.isReady = false;
    if (this.stopping) return;
    if (!this.everReady && proc.exitCode !== null && CONFIG_EXIT_CODES.has(proc.exitCode)) {
      this.fatal = `${describeExit(proc)} before it was ever ready`;
      this.retire();
      this.onFatal?.(this.spec);
      return;
    }
    this.diedAt ??= performance.now();
    this.log.warn(`${this.spec.label} has died (${describeExit(proc)}). Re-creating.`);
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    const { delayMs, recent } = this.backoff.next();
    this.respawns++;
    if (delayMs === 0) {
      this.spawn();
      return;
    }
    this.log.warn(`${this.spec.label} keeps crashing (${recent} restarts within ${this.restartWindowMs / 1000} s). Next restart in ${(delayMs / 1000).toFixed(1)} s.`);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) this.spawn();
    }, delayMs);
  }
}
