import { homedir } from "node:os";
import { join } from "node:path";
import { type Address, parseAddress } from "@switchyard/net";
import { CliError, type LogOptions, fleetSocket, parseAddressFlag, parseInteger, parseMillis, resolveLogOptions, resolveRunDir } from "@switchyard/cli";

export interface ServerConfig extends LogOptions {
  /** Global server number: "Server #3". */
  id: number;
  /** The replica's name in /rep ("Server 3", or a name given to /add). */
  name: string;
  listen: Address;
  /** Simulated work per request, in ms; waits without blocking other requests. */
  workMs: number;
  /** The watchdog's control socket when supervised. */
  control: Address | undefined;
  /** The rooms group: this server's election id (its pid unless given), where members register, where its reservations live. */
  /** undefined with --no-rooms: this server answers sqrt and HTTP only. */
  group: { electionId: number; dir: string; dataFile: string; heartbeatTimeoutMs: number; join: string[] } | undefined;
}

export interface ServerArgs {
  id?: string;
  name?: string;
  listen?: string;
  "work-ms"?: string;
  control?: string;
  "run-dir"?: string;
  "log-level"?: string;
  "log-format"?: string;
  "election-id"?: string;
  "group-dir"?: string;
  "data-dir"?: string;
  "heartbeat-timeout-ms"?: string;
  join?: string;
  rooms?: boolean;
}

/** Defaults: --name is "Server <id>"; --listen is server-<id>.sock in the run directory; no simulated work. */
export function resolveServerConfig(args: ServerArgs): ServerConfig {
  if (args.id === undefined) throw new CliError("--id is required (the server's number, e.g. --id 3)");
  const id = parseInteger("--id", args.id, 1, 0xffff_ffff);
  const name = args.name ?? `Server ${id}`;
  if (!/^[A-Za-z0-9 ._-]{1,63}$/.test(name)) throw new CliError(`--name must be 1 to 63 letters, digits, spaces, '.', '_' or '-', got "${name}"`);
  return {
    id,
    name,
    listen: args.listen ? parseAddressFlag("--listen", args.listen) : parseAddress(fleetSocket.server(resolveRunDir(args["run-dir"]), id)),
    workMs: args["work-ms"] === undefined ? 0 : parseMillis("--work-ms", args["work-ms"]),
    control: args.control ? parseAddressFlag("--control", args.control) : undefined,
    group: args.rooms === false ? undefined : {
      electionId: args["election-id"] === undefined ? process.pid : parseInteger("--election-id", args["election-id"], 1, 0x7fff_ffff),
      dir: args["group-dir"] ?? join(resolveRunDir(args["run-dir"]), "group"),
      // Kept per server number, not per election id: a restarted server (new pid) finds its reservations again.
      dataFile: join(resolveDataDir(args["data-dir"]), `server-${id}.sqlite`),
      heartbeatTimeoutMs: args["heartbeat-timeout-ms"] === undefined ? 1000 : Math.max(50, parseMillis("--heartbeat-timeout-ms", args["heartbeat-timeout-ms"])),
      // Checked as addresses, kept as the URIs the other servers are reached at.
      join: args.join === undefined ? [] : args.join.split(",").map((address) => (parseAddressFlag("--join", address.trim()), address.trim())),
    },
    ...resolveLogOptions(args),
  };
}

/** --data-dir, else $SWITCHYARD_DATA_DIR, else $XDG_STATE_HOME/switchyard (default ~/.local/state/switchyard), as DESIGN §1 says. */
export function resolveDataDir(flag: string | undefined, env: Record<string, string | undefined> = process.env): string {
  if (flag !== undefined) return flag;
  if (env.SWITCHYARD_DATA_DIR) return env.SWITCHYARD_DATA_DIR;
  return join(env.XDG_STATE_HOME || join(homedir(), ".local", "state"), "switchyard");
}
