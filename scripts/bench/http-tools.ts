// haproxy and wrk for the HTTP benchmark, from Debian's packages: found on PATH (or in /usr/sbin,
// where Debian puts haproxy), else installed with apt-get when we are root and apt-get exists.
import { Spawned } from "@switchyard/testing";
import { trackPid, untrackPid } from "./cleanup.ts";

export interface HttpTools {
  haproxy: string;
  wrk: string;
  /** "HAProxy 2.6.12", "wrk 4.1.0", from the binaries themselves. */
  haproxyVersion: string;
  wrkVersion: string;
}

export type ToolsOutcome = { ok: true; tools: HttpTools; installed: string[] } | { ok: false; reason: string };

const SEARCH_PATH = `${process.env.PATH ?? ""}:/usr/local/sbin:/usr/sbin:/sbin`;
/** Per apt-get call (the packages are a few MB); the bench's overall time limit still applies. */
const APT_TIMEOUT_MS = 120_000;

function find(): { haproxy: string | null; wrk: string | null } {
  return { haproxy: Bun.which("haproxy", { PATH: SEARCH_PATH }), wrk: Bun.which("wrk", { PATH: SEARCH_PATH }) };
}

export async function ensureHttpTools(progress: (line: string) => void): Promise<ToolsOutcome> {
  let found = find();
  const missing = (["haproxy", "wrk"] as const).filter((name) => found[name] === null);
  const installed: string[] = [];
  if (missing.length > 0) {
    const blocker = process.getuid?.() !== 0 ? "we are not root" : Bun.which("apt-get") === null ? "apt-get is not available" : undefined;
    if (blocker !== undefined) return { ok: false, reason: `${missing.join(" and ")} not installed, and ${blocker} to install them (apt-get install ${missing.join(" ")})` };
    progress(`installing ${missing.join(" and ")}: apt-get install -y ${missing.join(" ")}`);
    let run = await apt(["install", "-y", "--no-install-recommends", ...missing]);
    if (!run.ok) {
      // A fresh machine has no package lists yet: fetch them once, then try again.
      progress("apt-get install failed; running apt-get update, then installing again");
      await apt(["update"]);
      run = await apt(["install", "-y", "--no-install-recommends", ...missing]);
    }
    found = find();
    const still = missing.filter((name) => found[name] === null);
    if (still.length > 0) return { ok: false, reason: `apt-get install ${missing.join(" ")} did not provide ${still.join(" and ")}: ${run.tail}` };
    installed.push(...missing);
  }
  const haproxy = found.haproxy!;
  const wrk = found.wrk!;
  // `haproxy -v`: "HAProxy version 2.6.12-1+deb12u1 2023/…"; `wrk -v`: "wrk 4.1.0 [epoll] Copyright …" (and exit 1).
  const haproxyVersion = /HA-?Proxy version (\S+)/.exec(firstLine([haproxy, "-v"]))?.[1];
  const wrkVersion = /^wrk (\S+)/.exec(firstLine([wrk, "-v"]))?.[1];
  return { ok: true, installed, tools: { haproxy, wrk, haproxyVersion: `HAProxy ${haproxyVersion ?? "(unknown version)"}`, wrkVersion: `wrk ${wrkVersion ?? "(unknown version)"}` } };
}

function firstLine(cmd: string[]): string {
  const out = Bun.spawnSync(cmd, { timeout: 5000 });
  return `${out.stdout.toString()}\n${out.stderr.toString()}`.trim().split("\n")[0] ?? "";
}

async function apt(args: string[]): Promise<{ ok: boolean; tail: string }> {
  const proc = new Spawned(["apt-get", ...args], { env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
  trackPid(proc.pid);
  try {
    const code = await proc.exited(APT_TIMEOUT_MS).catch(() => null);
    return { ok: code === 0, tail: proc.lines.slice(-5).join(" / ") || `exit ${code ?? "(killed or timed out)"}` };
  } finally {
    proc.kill("SIGKILL");
    untrackPid(proc.pid);
  }
}
