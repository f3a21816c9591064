import { writeSync } from "node:fs";
import { formatWithOptions } from "node:util";
import type { ConsolaReporter, LogObject } from "consola";
import type { LogFormat } from "./levels.ts";

/** Where finished lines go; tests pass their own. */
export type LineSink = (fd: 1 | 2, line: string) => void;

/**
 * Lines are written synchronously, so a process's last words reach the terminal before it exits
 * and lines of different processes sharing one terminal never interleave mid-line.
 */
export const writeLine: LineSink = (fd, line) => {
  try {
    writeSync(fd, line);
  } catch {
    // A closed or full stdout must never take the process down with it.
  }
};

/** `[Role #N]: message` (text) or one JSON object per line (json); errors and warnings on stderr. */
export function createReporter(role: string, format: LogFormat, sink: LineSink = writeLine): ConsolaReporter {
  return {
    log(entry: LogObject) {
      const message = renderMessage(entry.args);
      const fd = entry.level <= 1 ? 2 : 1;
      if (format === "json") {
        sink(fd, `${JSON.stringify({ time: entry.date.toISOString(), level: entry.type, role, msg: message })}\n`);
      } else {
        sink(fd, `[${role}]: ${message}\n`);
      }
    },
  };
}

function renderMessage(args: unknown[]): string {
  if (args.length === 1 && typeof args[0] === "string") return args[0];
  return formatWithOptions({ colors: false, breakLength: Number.POSITIVE_INFINITY }, ...args);
}
