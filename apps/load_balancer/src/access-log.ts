import { closeSync, openSync, writeSync } from "node:fs";
import { CliError } from "@switchyard/cli";
import type { LogFormat, Logger } from "@switchyard/log";
import { writeOut } from "@switchyard/log";

/** One request as the access log writes it (and the metrics count it). */
export interface RequestRecord {
  protocol: "http" | "wire";
  /** X-Request-Id of an HTTP request (the client's, or the one the front door gave it); the wire has none, so "-". */
  id: string;
  /** The client's address (HTTP) or "Client #107" (wire). */
  client: string;
  /** "GET /path?query" (HTTP) or the op (wire). */
  request: string;
  /** The pool it was routed to: "default", "external", a named pool, or "admin" for the front door's own endpoints. */
  route: string;
  /** The upstream that gave the answer (or the last one tried); "-" when none was. */
  upstream: string;
  /** HTTP status, or for the wire "ok" or the error code. */
  status: string;
  durationMs: number;
  /** Attempts after the first (on other upstreams). */
  retries: number;
}

/** Lines wait at most this long in memory (a crash loses at most this much of the log). */
const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;

/**
 * --access-log FILE ("-": standard output): one line per request, as nginx's access_log. Lines are
 * batched and written every 200 ms (or 64 KiB), appended to the file, which SIGHUP reopens (so
 * logrotate can move it away). Text is `key=value` fields (logfmt); with --log-format json, one
 * JSON object per line.
 */
export class AccessLog {
  private fd: number;
  private pending: string[] = [];
  private pendingBytes = 0;
  private timer: Timer | undefined;

  constructor(
    private readonly path: string,
    private readonly format: LogFormat,
    private readonly log: Logger,
  ) {
    this.fd = this.open();
  }

  write(record: RequestRecord): void {
    const line = this.format === "json" ? JSON.stringify({ time: new Date().toISOString(), ...record }) : textLine(record);
    this.pending.push(line);
    this.pendingBytes += line.length + 1;
    if (this.pendingBytes >= FLUSH_BYTES) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  /** Writes what is pending, then opens the file again (by its name: a rotated file stays with its old name). */
  reopen(): void {
    this.flush();
    if (this.path === "-") return;
    try {
      const fd = this.open();
      closeSync(this.fd);
      this.fd = fd;
      this.log.info(`Access log reopened: ${this.path}`);
    } catch (error) {
      this.log.error(`Access log not reopened, still writing to the old file: ${(error as Error).message}`);
    }
  }

  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.pending.length === 0) return;
    const text = `${this.pending.join("\n")}\n`;
    this.pending = [];
    this.pendingBytes = 0;
    if (this.path === "-") return writeOut(1, text);
    try {
      writeSync(this.fd, text);
    } catch (error) {
      this.log.error(`Access log ${this.path}: ${(error as Error).message}`);
    }
  }

  close(): void {
    this.flush();
    if (this.path !== "-") closeSync(this.fd);
  }

  private open(): number {
    if (this.path === "-") return 1;
    try {
      return openSync(this.path, "a", 0o640);
    } catch (error) {
      throw new CliError(`--access-log ${this.path}: cannot open it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, 78);
    }
  }
}

/** `2026-11-21T10:00:00.000Z id=… client=127.0.0.1 request="GET /" route=default upstream="Proxy #1" status=200 duration_ms=1.25 retries=0` */
export function textLine(record: RequestRecord): string {
  const { id, client, request, route, upstream, status, durationMs, retries } = record;
  const fields: [string, string][] = [
    ["protocol", record.protocol],
    ["id", id],
    ["client", client],
    ["request", request],
    ["route", route],
    ["upstream", upstream],
    ["status", status],
    ["duration_ms", durationMs.toFixed(2)],
    ["retries", String(retries)],
  ];
  return `${new Date().toISOString()} ${fields.map(([key, value]) => `${key}=${quoted(value)}`).join(" ")}`;
}

/** A value as logfmt writes it: bare when it is one plain word, else in double quotes with `"` and `\` escaped. */
function quoted(value: string): string {
  return /^[\w.:/#@+-]+$/.test(value) ? value : `"${value.replace(/[\\"]/g, "\\$&").replace(/[\u0000-\u001f]/g, " ")}"`;
}
