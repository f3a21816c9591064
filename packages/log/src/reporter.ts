import { writeSync } from "node:fs";
import { formatWithOptions } from "node:util";
import type { ConsolaReporter, LogObject } from "consola";
import type { LogFormat } from "./levels.ts";

/** Where finished lines go; tests pass their own. */
export type LineSink = (fd: 1 | 2, line: string) => void;

/**
 * Lines are written synchronously, so a process's last words reach the terminal before it exits
 * and lines of different processes sharing one terminal never interleave mid-line. When the
 * descriptor is a full non-blocking pipe, the rest of the line and every later one go through the
 * stream's own queue until it drains: nothing is lost or reordered, and nothing blocks.
 */
export const writeLine: LineSink = (fd, line) => {
  const stream = fd === 1 ? process.stdout : process.stderr;
  if (queued[fd]) {
    stream.write(line);
    return;
  }
  const bytes = Buffer.from(line);
  let written = 0;
  try {
    written = writeSync(fd, bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return; // A closed stdout must never take the process down.
  }
  if (written >= bytes.length) return;
  if (!guarded.has(stream)) {
    guarded.add(stream);
    stream.on("error", () => {}); // A reader that went away must not crash us later either.
  }
  queued[fd] = true;
  const drained = stream.write(bytes.subarray(written), () => {});
  if (drained) queued[fd] = false;
  else stream.once("drain", () => (queued[fd] = false));
};

const queued: Record<1 | 2, boolean> = { 1: false, 2: false };
const guarded = new WeakSet<NodeJS.WriteStream>();

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
