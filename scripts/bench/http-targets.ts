// What the HTTP benchmark sends load to: Bun.serve backends, HAProxy in front of them, and the
// watchdog's HTTP front door in its topologies. Each is started by pid, registered with cleanup.ts
// at once, ready when GET /home answers the server's JSON, and stopped (SIGKILL by pid) by stop().
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { Spawned, binary } from "@switchyard/testing";
import { trackFinder, trackPid, untrackPid } from "./cleanup.ts";
import { destroyFleet } from "./fleet.ts";
import { processesIn } from "./members.ts";

export const HOME_PATH = "/home";
/** The spec's answer, byte for byte (the number differs); the backends send exactly this. */
const HOME_ANSWER = /^\{"message": "Hello from Server: (\d+)", "status": "successful"\}$/;
const BACKEND_SCRIPT = join(import.meta.dir, "http-backend.ts");

export interface TargetPids {
  /** The processes doing the proxying: HAProxy, or the load balancer and the reverse proxies. */
  proxy: number[];
  /** What each proxying process is called in the report ("HAProxy", "Load Balancer", "Reverse Proxy #2"), by pid. */
  names: Record<number, string>;
  /** Whatever answers /home behind them: the Bun.serve backends or the fleet's servers. */
  backend: number[];
  /** Processes of the target that are neither (the watchdog). */
  other: number[];
}

export interface Target {
  readonly url: string;
  /** How it was started, for the report. */
  readonly command: string;
  /** Read with `ps` for fleets, so call it outside a measured window. */
  pids(): TargetPids;
  /** Doubts found while starting it (the numbers are still measured). */
  readonly warnings: string[];
  stop(): Promise<void>;
}

export interface Backend {
  readonly id: number;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

export interface Answer {
  /** 200, application/json, and the server's JSON (the same keys and values, whatever the spacing). */
  ok: boolean;
  /** The body is byte for byte the spec's form (`{"message": "Hello from Server: N", "status": "successful"}`). */
  exact: boolean;
  /** The server number in a correct answer. */
  server?: number;
  body: string;
  /** What came back, for a failed start. */
  detail: string;
}

/** One GET /home on `url`. */
export async function probeHome(url: string, timeoutMs: number): Promise<Answer> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = await response.text();
    const type = response.headers.get("content-type") ?? "";
    const server = homeServer(body);
    const ok = response.status === 200 && type.split(";")[0]?.trim() === "application/json" && server !== undefined;
    return { ok, exact: HOME_ANSWER.test(body), server, body, detail: `HTTP ${response.status}, Content-Type ${JSON.stringify(type)}, body ${JSON.stringify(body.slice(0, 200))}` };
  } catch (error) {
    return { ok: false, exact: false, body: "", detail: error instanceof Error ? error.message : String(error) };
  }
}

/** N when `body` is JSON with exactly {message: "Hello from Server: N", status: "successful"}. */
function homeServer(body: string): number | undefined {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Object.keys(value).length !== 2) return undefined;
  const { message, status } = value as { message?: unknown; status?: unknown };
  const match = typeof message === "string" ? /^Hello from Server: (\d+)$/.exec(message) : null;
  return status === "successful" && match ? Number(match[1]) : undefined;
}

/** A warning when a correct answer is not byte for byte the spec's form (a shorter body is less work per request). */
function inexact(answer: Answer): string[] {
  const spec = `{"message": "Hello from Server: ${answer.server}", "status": "successful"}`;
  return answer.ok && !answer.exact ? [`answers ${answer.body} (${answer.body.length} bytes) rather than the spec's ${spec} (${spec.length} bytes)`] : [];
}

/** Polls until GET `url` answers correctly, `alive()` turns false, or the deadline passes; the last answer when it did not. */
async function waitForHome(url: string, deadlineMs: number, alive: () => boolean): Promise<Answer> {
  const deadline = performance.now() + deadlineMs;
  let last: Answer = { ok: false, exact: false, body: "", detail: "no attempt" };
  while (performance.now() < deadline) {
    if (!alive()) return { ...last, ok: false, detail: `the process exited (last answer: ${last.detail})` };
    last = await probeHome(url, Math.max(50, Math.min(500, deadline - performance.now())));
    if (last.ok) return last;
    await Bun.sleep(25);
  }
  return { ...last, ok: false, detail: `no correct answer within ${deadlineMs} ms (last: ${last.detail})` };
}

/** The server numbers that answered `count` sequential GET /home (one keep-alive connection). */
export async function serversSeen(url: string, count: number): Promise<number[]> {
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    const answer = await probeHome(url, 1000);
    if (answer.server !== undefined) seen.add(answer.server);
  }
  return [...seen].sort((a, b) => a - b);
}

function isRunning(proc: Spawned): boolean {
  return proc.proc.exitCode === null && proc.proc.signalCode === null;
}

function stopper(proc: Spawned, also: () => void = () => {}): () => Promise<void> {
  return async () => {
    proc.kill("SIGKILL");
    also();
    await proc.exited(5000).catch(() => undefined);
    untrackPid(proc.pid);
  };
}

/** `bun scripts/bench/http-backend.ts <id>` on an ephemeral port; ready at its `listening on` line. */
export async function startBackend(id: number, readyTimeoutMs = 10_000): Promise<Backend> {
  const proc = new Spawned([process.execPath, BACKEND_SCRIPT, String(id)]);
  trackPid(proc.pid);
  const stop = stopper(proc);
  try {
    const line = await proc.waitForLine(/^listening on 127\.0\.0\.1:\d+$/, readyTimeoutMs);
    const port = Number(line.slice(line.lastIndexOf(":") + 1));
    const answer = await waitForHome(`http://127.0.0.1:${port}${HOME_PATH}`, readyTimeoutMs, () => isRunning(proc));
    if (!answer.ok) throw new Error(`backend ${id}: ${answer.detail}`);
    return { id, port, pid: proc.pid, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

export interface HaproxyConfig {
  port: number;
  backendPorts: readonly number[];
  threads: number;
}

/**
 * What a HAProxy user would write for this: HTTP mode, keep-alive on both sides with idle server
 * connections shared between clients (`http-reuse always`), round robin, the same health check
 * interval as the fleet's default (1 s), timeouts set, and no `log` line, so nothing is logged.
 */
export function renderHaproxyConfig(c: HaproxyConfig): string {
  return [
    "global",
    `    nbthread ${c.threads}`,
    // Far above the 64 connections of the load; the file-descriptor limit it implies (2 per connection) fits a default ulimit.
    "    maxconn 4096",
    "",
    "defaults",
    "    mode http",
    "    option http-keep-alive",
    "    http-reuse always",
    "    timeout connect 5s",
    "    timeout client 30s",
    "    timeout server 30s",
    "    timeout http-request 10s",
    "    timeout http-keep-alive 30s",
    "",
    "frontend front",
    `    bind 127.0.0.1:${c.port}`,
    "    default_backend servers",
    "",
    "backend servers",
    "    balance roundrobin",
    "    option httpchk GET /healthcheck",
    ...c.backendPorts.map((port, i) => `    server s${i + 1} 127.0.0.1:${port} check inter 1s`),
    "",
  ].join("\n");
}

/** `haproxy -db -f <dir>/haproxy.cfg` in the foreground (-db: no daemon, so the pid we hold is the one proxying). */
export async function startHaproxy(haproxy: string, dir: string, config: HaproxyConfig, readyTimeoutMs = 10_000): Promise<Target> {
  const file = join(dir, "haproxy.cfg");
  writeFileSync(file, renderHaproxyConfig(config));
  const cmd = [haproxy, "-db", "-f", file];
  const proc = new Spawned(cmd);
  trackPid(proc.pid);
  const url = `http://127.0.0.1:${config.port}${HOME_PATH}`;
  const target: Target = { url, command: cmd.join(" "), pids: () => ({ proxy: [proc.pid], names: { [proc.pid]: "HAProxy" }, backend: [], other: [] }), warnings: [], stop: stopper(proc) };
  const answer = await waitForHome(url, readyTimeoutMs, () => isRunning(proc));
  if (!answer.ok) {
    await target.stop();
    throw new StartError(`${answer.detail}\n${proc.output}`.trim());
  }
  // A configuration warning would make it a baseline other than the one described: say so.
  target.warnings.push(...proc.lines.filter((line) => /\[(WARNING|ALERT)\]/.test(line)), ...inexact(answer));
  return target;
}

/** A target's start failed; `message` holds what the process printed. */
export class StartError extends Error {}

export interface HttpFleetSpec {
  proxies: number;
  serversPerProxy: number;
  /** External HTTP upstreams (`--upstream http://…`), for the fleet without servers of its own. */
  upstreams: readonly string[];
}

/**
 * `./watchdog --proxies P --servers S [--upstream URL…] --http-port PORT --run-dir DIR --log-level warn`,
 * ready when GET /home answers correctly through the front door and ps shows every member.
 * Throws StartError with the watchdog's output (its stderr says why) when it does not get there.
 */
export async function startHttpFleet(spec: HttpFleetSpec, port: number, runDir: string, binDir?: string, readyTimeoutMs = 20_000): Promise<Target> {
  const args = ["--proxies", String(spec.proxies), "--servers", String(spec.serversPerProxy), ...spec.upstreams.flatMap((u) => ["--upstream", u])];
  const cmd = [binDir === undefined ? binary("watchdog") : resolve(binDir, "watchdog"), ...args, "--http-port", String(port), "--run-dir", runDir, "--log-level", "warn"];
  const watchdog = new Spawned(cmd);
  trackPid(watchdog.pid);
  const forget = trackFinder(() => processesIn(runDir).map((m) => m.pid));
  const url = `http://127.0.0.1:${port}${HOME_PATH}`;
  const target: Target = {
    url,
    command: `./watchdog ${[...args, "--http-port", "<port>", "--run-dir", "<tmp>", "--log-level", "warn"].join(" ")}`,
    pids() {
      const members = processesIn(runDir);
      const of = (kinds: string[]) => members.filter((m) => kinds.includes(m.kind)).map((m) => m.pid);
      const names = Object.fromEntries(members.filter((m) => m.kind === "load_balancer" || m.kind === "reverse_proxy").map((m) => [m.pid, m.label]));
      return { proxy: of(["load_balancer", "reverse_proxy"]), names, backend: of(["server"]), other: of(["watchdog"]) };
    },
    warnings: [],
    stop: () => destroyFleet(watchdog, runDir, forget),
  };
  const started = performance.now();
  const answer = await waitForHome(url, readyTimeoutMs, () => isRunning(watchdog));
  if (!answer.ok) {
    await target.stop();
    const said = watchdog.stderrLines.length > 0 ? watchdog.stderrLines.join("\n") : watchdog.output;
    throw new StartError(`${answer.detail}${said ? `\nwatchdog output:\n${said}` : ""}`);
  }
  target.warnings.push(...inexact(answer));
  // The front door may answer before the last server is up: wait (bounded) until ps shows them all;
  // if it never does, measure anyway and say so (the member names are the owner's to change).
  const expected = { load_balancer: 1, reverse_proxy: spec.proxies, server: spec.proxies === 0 ? spec.serversPerProxy : spec.proxies * spec.serversPerProxy };
  const complete = () => {
    const members = processesIn(runDir);
    return (Object.keys(expected) as Array<keyof typeof expected>).every((kind) => members.filter((m) => m.kind === kind).length === expected[kind]);
  };
  while (!complete()) {
    if (performance.now() - started > readyTimeoutMs) {
      const found = processesIn(runDir).map((m) => m.label).join(", ");
      target.warnings.push(`ps shows ${found || "no member"} rather than 1 load balancer, ${expected.reverse_proxy} proxies and ${expected.server} servers; CPU per request counts only what it shows`);
      break;
    }
    await Bun.sleep(50);
  }
  return target;
}
