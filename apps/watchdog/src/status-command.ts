import { CliError, fleetSocket } from "@switchyard/cli";
import { Peer, parseAddress } from "@switchyard/net";
import type { FleetStatus, ProcessStatus } from "./status.ts";

const ASK_TIMEOUT_MS = 5000;

/** `watchdog status`: the running fleet of this run directory, asked over the watchdog's control socket. */
export async function fetchStatus(runDir: string): Promise<FleetStatus> {
  const address = fleetSocket.watchdog(runDir);
  const peer = new Peer({ address: parseAddress(address), role: "cli", id: 0, reconnect: false, timeoutMs: ASK_TIMEOUT_MS, connectTimeoutMs: ASK_TIMEOUT_MS });
  try {
    return (await peer.request("fleet.status", {}, ASK_TIMEOUT_MS)) as FleetStatus;
  } catch (error) {
    throw new CliError(`no fleet answers at ${address} (${(error as Error).message}); is ./watchdog running with --run-dir ${runDir}?`, 1);
  } finally {
    peer.close();
  }
}

const COLUMNS = ["role", "n", "name", "pid", "state", "restarts", "uptime", "requests", "errors", "memory"] as const;

/** A table like `pm2 ls`, then the rooms leader and the last events. */
export function renderStatus(status: FleetStatus, eventsShown = 5): string {
  const rows = status.processes.map((p) => row(p));
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((cell, i) => (i === 1 || i >= 3 ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd();
  const out = [line(COLUMNS), line(widths.map((w) => "─".repeat(w))), ...rows.map(line)];
  const { leader, epoch } = status.rooms;
  out.push("", leader === null ? "Rooms group: no leader known" : `Rooms group: leader ${leader} (epoch ${epoch})`);
  if (status.events.length > 0) {
    out.push("", "Last events:");
    for (const event of status.events.slice(0, eventsShown)) out.push(`  ${new Date(event.time).toISOString().slice(11, 19)}  ${event.text}`);
  }
  return `${out.join("\n")}\n`;
}

function row(p: ProcessStatus): string[] {
  const role = p.role.replace("_", " ");
  return [role, String(p.n), p.name, p.pid === null ? "–" : String(p.pid), p.state, String(p.restarts), duration(p.uptimeSeconds), String(p.requests), String(p.errors), bytes(p.memoryBytes)];
}

/** 42s, 3m05s, 2h10m, 3d04h. */
export function duration(seconds: number | null): string {
  if (seconds === null) return "–";
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, "0")}h`;
}

function bytes(n: number | null): string {
  return n === null ? "–" : `${(n / 1024 / 1024).toFixed(1)} MiB`;
}
