import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { CliError, fleetSocket } from "@switchyard/cli";
import { parseAddress, probe } from "@switchyard/net";

export interface RunDirLock {
  release(): void;
}

/**
 * One watchdog per run directory: watchdog.pid is created exclusively. A pid file whose process is
 * gone, or whose control socket no longer answers, is stale (a crashed or SIGKILLed run) and replaced.
 */
export async function lockRunDir(runDir: string): Promise<RunDirLock> {
  const pidFile = join(runDir, "watchdog.pid");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(pidFile, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return {
        release() {
          try {
            if (readFileSync(pidFile, "utf8").trim() === String(process.pid)) unlinkSync(pidFile);
          } catch {
            // Already gone.
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw new CliError(`cannot create ${pidFile}: ${(error as Error).message}`, 1);
    }
    const other = Number(readFileSync(pidFile, "utf8").trim());
    if (isAlive(other) && (await probe(parseAddress(fleetSocket.watchdog(runDir)), 1000))) {
      throw new CliError(
        `another watchdog (pid ${other}) is already running in ${runDir}. Stop it first (kill -TSTP ${other}) or use --run-dir`,
        1,
      );
    }
    unlinkSync(pidFile);
  }
  throw new CliError(`could not lock ${runDir}: another watchdog is starting there at the same time`, 1);
}

function isAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
