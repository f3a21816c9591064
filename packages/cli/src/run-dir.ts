import { chmodSync, mkdirSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CliError } from "./errors.ts";

/** `--run-dir`, else $SWITCHYARD_RUN_DIR, else /tmp/switchyard-<uid> (DESIGN §1). */
export function resolveRunDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return flag;
  if (env.SWITCHYARD_RUN_DIR) return env.SWITCHYARD_RUN_DIR;
  return join(process.platform === "linux" ? "/tmp" : tmpdir(), `switchyard-${process.getuid?.() ?? "user"}`);
}

/** Creates the run directory with mode 0700; refuses one owned by somebody else. */
export function ensureRunDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const info = statSync(dir);
    if (!info.isDirectory()) throw new CliError(`run directory ${dir} is not a directory`, 1);
    const uid = process.getuid?.();
    if (uid !== undefined && info.uid !== uid) throw new CliError(`run directory ${dir} belongs to another user (uid ${info.uid})`, 1);
    if ((info.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot use run directory ${dir}: ${(error as Error).message}`, 1);
  }
}

/** Where each member of the default fleet listens inside a run directory. */
export const fleetSocket = {
  watchdog: (dir: string) => `unix:${join(dir, "watchdog.sock")}`,
  loadBalancer: (dir: string) => `unix:${join(dir, "load_balancer.sock")}`,
  proxy: (dir: string, n: number) => `unix:${join(dir, `reverse_proxy-${n}.sock`)}`,
  server: (dir: string, n: number) => `unix:${join(dir, `server-${n}.sock`)}`,
};
