import { describe, expect, test } from "bun:test";
import type { ConsolaOptions, LogObject } from "consola";
import { createReporter, type LineSink } from "./reporter.ts";

function capture(): { sink: LineSink; lines: [1 | 2, string][] } {
  const lines: [1 | 2, string][] = [];
  return { sink: (fd, line) => lines.push([fd, line]), lines };
}

const at = new Date("2026-01-02T03:04:05.678Z");
// The reporter ignores consola's context; an empty one stands in for it.
const ctx = { options: {} as ConsolaOptions };
function entry(type: LogObject["type"], level: number, ...args: unknown[]): LogObject {
  return { type, level, args, date: at, tag: "" } as LogObject;
}

describe("createReporter (text)", () => {
  test("writes the seed's line, exactly, to fd 1", () => {
    const { sink, lines } = capture();
    createReporter("Server #2", "text", sink).log(entry("info", 3, "Received the value 16 from Client #107. Returning 4.0."), ctx);
    expect(lines).toEqual([[1, "[Server #2]: Received the value 16 from Client #107. Returning 4.0.\n"]]);
  });

  test("errors go to fd 2, everything else (warnings too, as DESIGN §5 says) to fd 1", () => {
    const { sink, lines } = capture();
    const reporter = createReporter("Watchdog", "text", sink);
    reporter.log(entry("fatal", 0, "f"), ctx);
    reporter.log(entry("error", 0, "e"), ctx);
    reporter.log(entry("warn", 1, "w"), ctx);
    reporter.log(entry("log", 2, "l"), ctx);
    reporter.log(entry("info", 3, "i"), ctx);
    reporter.log(entry("debug", 4, "d"), ctx);
    expect(lines.map(([fd, line]) => `${fd}${line}`)).toEqual([
      "2[Watchdog]: f\n",
      "2[Watchdog]: e\n",
      "1[Watchdog]: w\n",
      "1[Watchdog]: l\n",
      "1[Watchdog]: i\n",
      "1[Watchdog]: d\n",
    ]);
  });

  test("several arguments are formatted like console.log, on one line and without colours", () => {
    const { sink, lines } = capture();
    createReporter("Load Balancer", "text", sink).log(entry("info", 3, "picked", 2, { proxy: "#1", deep: { a: [1, 2] } }), ctx);
    expect(lines).toEqual([[1, "[Load Balancer]: picked 2 { proxy: '#1', deep: { a: [ 1, 2 ] } }\n"]]);
  });

  test("a single string is written verbatim, % signs included", () => {
    const { sink, lines } = capture();
    createReporter("Server #1", "text", sink).log(entry("info", 3, "100% of %s done"), ctx);
    expect(lines).toEqual([[1, "[Server #1]: 100% of %s done\n"]]);
  });
});

describe("createReporter (json)", () => {
  test("one parseable JSON object per line with time, level, role and msg", () => {
    const { sink, lines } = capture();
    const reporter = createReporter("Reverse Proxy #1", "json", sink);
    reporter.log(entry("info", 3, 'Forwarding "x"\nto Server #2'), ctx);
    reporter.log(entry("error", 0, "boom"), ctx);
    expect(lines.map(([fd]) => fd)).toEqual([1, 2]);
    for (const [, line] of lines) {
      expect(line.endsWith("\n")).toBe(true);
      expect(line.slice(0, -1).includes("\n")).toBe(false); // a newline in msg is escaped, never splits the line
    }
    expect(lines.map(([, line]) => JSON.parse(line))).toEqual([
      { time: "2026-01-02T03:04:05.678Z", level: "info", role: "Reverse Proxy #1", msg: 'Forwarding "x"\nto Server #2' },
      { time: "2026-01-02T03:04:05.678Z", level: "error", role: "Reverse Proxy #1", msg: "boom" },
    ]);
  });
});

describe("writeLine (the default sink)", () => {
  test("a real process prints info lines on stdout and error lines on stderr, byte for byte", () => {
    const logger = new URL("./index.ts", import.meta.url).pathname;
    const script = [
      `import { createLogger } from ${JSON.stringify(logger)};`,
      `const log = createLogger({ role: "Server #2" });`,
      `log.info("Received the value 16 from Client #107. Returning 4.0.");`,
      `log.error("Value -4 is not legal.");`,
    ].join("\n");
    const run = Bun.spawnSync([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    expect(run.stderr.toString()).toBe("[Server #2]: Value -4 is not legal.\n");
    expect(run.stdout.toString()).toBe("[Server #2]: Received the value 16 from Client #107. Returning 4.0.\n");
    expect(run.exitCode).toBe(0);
  });

  test("a closed stdout does not take the process down", () => {
    const logger = new URL("./index.ts", import.meta.url).pathname;
    const script = [
      `import { closeSync } from "node:fs";`,
      `import { createLogger } from ${JSON.stringify(logger)};`,
      `closeSync(1);`,
      `createLogger({ role: "Server #2" }).info("into the void");`,
      `process.exitCode = 7;`,
    ].join("\n");
    const run = Bun.spawnSync([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    expect(run.exitCode).toBe(7);
  });
});
