import { describe, expect, test } from "bun:test";
import { createLogger, infoEnabled, type LoggerOptions } from "./logger.ts";
import type { LineSink } from "./reporter.ts";

function logger(options: Omit<LoggerOptions, "sink"> = { role: "Server #2" }) {
  const lines: [1 | 2, string][] = [];
  const sink: LineSink = (fd, line) => lines.push([fd, line]);
  return { log: createLogger({ ...options, sink }), lines };
}

describe("createLogger", () => {
  test("text format: info is the seed's line on fd 1, error lines go to fd 2", () => {
    const { log, lines } = logger({ role: "Server #2" });
    log.info("Received the value 16 from Client #107. Returning 4.0.");
    log.error("Server #3 died (exit code 1). Restarting.");
    expect(lines).toEqual([
      [1, "[Server #2]: Received the value 16 from Client #107. Returning 4.0.\n"],
      [2, "[Server #2]: Server #3 died (exit code 1). Restarting.\n"],
    ]);
  });

  test("lines are written synchronously, before the call returns", () => {
    const { log, lines } = logger();
    log.info("now");
    expect(lines.length).toBe(1);
  });

  test("json format: one parseable object per line with time, level, role and msg", () => {
    const { log, lines } = logger({ role: "Load Balancer", format: "json" });
    const before = Date.now();
    log.info("Request from Client #107. Forwarding to Proxy #1");
    log.error("Proxy #2 is down");
    const after = Date.now();
    expect(lines.map(([fd]) => fd)).toEqual([1, 2]);
    const objects = lines.map(([, line]) => {
      expect(line.endsWith("\n")).toBe(true);
      return JSON.parse(line) as { time: string; level: string; role: string; msg: string };
    });
    expect(objects.map(({ level, role, msg }) => ({ level, role, msg }))).toEqual([
      { level: "info", role: "Load Balancer", msg: "Request from Client #107. Forwarding to Proxy #1" },
      { level: "error", role: "Load Balancer", msg: "Proxy #2 is down" },
    ]);
    for (const { time } of objects) {
      const t = Date.parse(time);
      expect(new Date(t).toISOString()).toBe(time);
      expect(t).toBeGreaterThanOrEqual(before);
      expect(t).toBeLessThanOrEqual(after);
    }
  });

  test('level "warn" suppresses info (and log, debug) but keeps warn and error', () => {
    const { log, lines } = logger({ role: "Server #1", level: "warn" });
    log.debug("d");
    log.info("i");
    log.log("l");
    log.warn("w");
    log.error("e");
    expect(lines).toEqual([
      [1, "[Server #1]: w\n"],
      [2, "[Server #1]: e\n"],
    ]);
  });

  test('level "silent" prints nothing, not even errors', () => {
    const { log, lines } = logger({ role: "Server #1", level: "silent" });
    log.error("e");
    log.fatal("f");
    expect(lines).toEqual([]);
  });

  test('level "debug" adds debug lines; the default (info) does not', () => {
    const debug = logger({ role: "Server #1", level: "debug" });
    debug.log.debug("d");
    expect(debug.lines).toEqual([[1, "[Server #1]: d\n"]]);
    const normal = logger({ role: "Server #1" });
    normal.log.debug("d");
    expect(normal.lines).toEqual([]);
  });

  test("repeated identical lines are all printed, never folded into '(repeated n times)'", () => {
    const { log, lines } = logger();
    for (let i = 0; i < 5; i++) log.info("Heartbeat from Server #1");
    expect(lines.length).toBe(5);
    expect(new Set(lines.map(([, l]) => l))).toEqual(new Set(["[Server #2]: Heartbeat from Server #1\n"]));
  });
});

describe("infoEnabled", () => {
  test("true at info and debug, false at warn, error and silent", () => {
    expect(infoEnabled(logger({ role: "x" }).log)).toBe(true);
    expect(infoEnabled(logger({ role: "x", level: "info" }).log)).toBe(true);
    expect(infoEnabled(logger({ role: "x", level: "debug" }).log)).toBe(true);
    expect(infoEnabled(logger({ role: "x", level: "warn" }).log)).toBe(false);
    expect(infoEnabled(logger({ role: "x", level: "error" }).log)).toBe(false);
    expect(infoEnabled(logger({ role: "x", level: "silent" }).log)).toBe(false);
  });

  test("agrees with whether an info line is actually printed", () => {
    for (const level of ["silent", "error", "warn", "info", "debug", "trace"] as const) {
      const { log, lines } = logger({ role: "x", level });
      log.info("probe");
      expect(infoEnabled(log)).toBe(lines.length === 1);
    }
  });
});
