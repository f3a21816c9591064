import { formatWithOptions } from "node:util";
import type { ConsolaReporter, LogObject } from "consola";
import type { LogFormat } from "./levels.ts";
import { writeOut } from "./output.ts";

/** Where finished lines go; tests pass their own. */
export type LineSink = (fd: 1 | 2, line: string) => void;

/** Lines go out whole and in order, see writeOut. */
export const writeLine: LineSink = (fd, line) => writeOut(fd, line);

/** `[Role #N]: message` (text) or one JSON object per line (json); errors on stderr, the rest on stdout (DESIGN §5). */
export function createReporter(role: string, format: LogFormat, sink: LineSink = writeLine): ConsolaReporter {
  return {
    log(entry: LogObject) {
      const message = renderMessage(entry.args);
      const fd = entry.level <= 0 ? 2 : 1;
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
