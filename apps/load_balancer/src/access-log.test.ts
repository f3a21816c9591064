import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@switchyard/log";
import { AccessLog, type RequestRecord, textLine } from "./access-log.ts";

const silent = createLogger({ role: "Load Balancer", level: "silent" });
const record: RequestRecord = {
  protocol: "http",
  id: "5f0c9a7e00000001",
  client: "127.0.0.1",
  request: 'GET /search?q="a b"',
  route: "default",
  upstream: "Proxy #1",
  status: "200",
  durationMs: 1.23456,
  retries: 0,
};

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "access-log-"));
  dirs.push(dir);
  return join(dir, "access.log");
}

describe("access log", () => {
  test("a text line is a timestamp and logfmt fields; values with spaces or quotes are quoted and escaped", () => {
    expect(textLine(record)).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z protocol=http id=5f0c9a7e00000001 client=127\.0\.0\.1 request="GET \/search\?q=\\"a b\\"" route=default upstream="Proxy #1" status=200 duration_ms=1\.23 retries=0$/,
    );
  });

  test("lines are appended to the file, JSON with --log-format json", () => {
    const file = tempFile();
    const log = new AccessLog(file, "json", silent);
    log.write(record);
    log.write({ ...record, protocol: "wire", id: "-", client: "Client #107", request: "sqrt", status: "ok" });
    log.close();
    const lines = readFileSync(file, "utf8").trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((l) => [l.protocol, l.client, l.status])).toEqual([
      ["http", "127.0.0.1", "200"],
      ["wire", "Client #107", "ok"],
    ]);
    expect(typeof lines[0]?.time).toBe("string");
  });

  test("reopen (SIGHUP) starts a new file after logrotate moved the old one; nothing is lost", () => {
    const file = tempFile();
    const log = new AccessLog(file, "text", silent);
    log.write(record);
    log.flush();
    renameSync(file, `${file}.1`);
    log.write({ ...record, id: "before-reopen" }); // written to the moved file: its descriptor is still open
    log.reopen();
    log.write({ ...record, id: "after-reopen" });
    log.close();
    expect(readFileSync(`${file}.1`, "utf8").trim().split("\n")).toHaveLength(2);
    expect(readFileSync(file, "utf8")).toContain("id=after-reopen");
  });

  test("a file that cannot be opened is a configuration error (exit 78) naming the flag", () => {
    expect(() => new AccessLog("/nonexistent-dir/access.log", "text", silent)).toThrow("--access-log /nonexistent-dir/access.log: cannot open it (ENOENT)");
  });
});
