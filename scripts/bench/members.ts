// The processes of a fleet, from `ps`: our binaries whose command line mentions its run directory.
// No package imports, so every bench script can use it.
import { basename } from "node:path";

export type MemberKind = "watchdog" | "load_balancer" | "reverse_proxy" | "server";

export interface Member {
  pid: number;
  kind: MemberKind;
  /** Proxy or server number; 0 for the watchdog and the load balancer. */
  id: number;
  /** "Load Balancer", "Reverse Proxy #2", "Server #5", "Watchdog". */
  label: string;
}

const KINDS: readonly MemberKind[] = ["watchdog", "load_balancer", "reverse_proxy", "server"];
const LABEL = { watchdog: () => "Watchdog", load_balancer: () => "Load Balancer", reverse_proxy: (id: number) => `Reverse Proxy #${id}`, server: (id: number) => `Server #${id}` };

/** Our binaries whose command line mentions `dir` (the executable itself must be one of ours). */
export function processesIn(dir: string): Member[] {
  const out = Bun.spawnSync(["ps", "-eo", "pid=,args="]).stdout.toString();
  const members: Member[] = [];
  for (const line of out.split("\n")) {
    const match = /^\s*(\d+)\s+(\S+)(.*)$/.exec(line);
    if (!match || !line.includes(dir)) continue;
    const kind = KINDS.find((k) => k === basename(match[2]!));
    if (kind === undefined) continue;
    const id = Number(/--id (\d+)/.exec(match[3]!)?.[1] ?? 0);
    members.push({ pid: Number(match[1]), kind, id, label: LABEL[kind](id) });
  }
  return members;
}
