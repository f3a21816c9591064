import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Spawned, binary } from "./process.ts";

const tempDirs = new Set<string>();

/** A fresh private directory under the system temp dir; `removeTempDirs` deletes every one made so far. */
export function makeTempDir(prefix = "sy-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

/** A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it). */
export function freeTcpPort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** True while a process with this pid exists and has not exited (a zombie waiting to be reaped counts as exited). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // Field 3 of /proc/<pid>/stat is the state; the command name before it may contain spaces, hence the last ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/**
 * Polls `condition` every `intervalMs` until it holds or `timeoutMs` passed; returns whether it held.
 * Only for states no process announces (such as "every process has exited").
 */
export async function pollUntil(condition: () => boolean, timeoutMs: number, intervalMs = 50): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (condition()) return true;
    if (performance.now() >= deadline) return false;
    await Bun.sleep(intervalMs);
  }
}

export interface ClientRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The `Result: …` text, if the client printed one. */
  result: string | undefined;
  /** Milliseconds from spawn to exit. */
  elapsedMs: number;
}

/** Runs `./client` to completion (bounded) with the given arguments and optional piped input. */
export async function runClient(args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<ClientRun> {
  const started = performance.now();
  const client = new Spawned([binary("client"), ...args], { stdin: options.input === undefined ? "ignore" : "pipe" });
  if (options.input !== undefined) {
    client.write(options.input);
    client.endInput();
  }
  const code = await client.exited(options.timeoutMs ?? 30_000);
  return describeClient(client, code, performance.now() - started);
}

/** The outcome of a client that has exited. */
export function describeClient(client: Spawned, code: number | null, elapsedMs = 0): ClientRun {
  const stdout = client.stdoutText;
  return {
    code,
    stdout,
    stderr: client.stderrLines.join("\n"),
    // After a prompt the result shares its line ("Enter a non-negative float: Result: 4.0").
    result: /Result: (.*)$/m.exec(stdout)?.[1],
    elapsedMs,
  };
}
