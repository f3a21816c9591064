import type { ArgsDef } from "citty";
import { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName, isLogFormat, isLogLevel } from "@switchyard/log";

/** Flags every binary accepts. */
export const commonArgs = {
  "log-level": {
    type: "enum",
    options: Object.keys(LOG_LEVELS),
    default: "info",
    description: "Least severe log lines printed (per-request lines are info)",
  },
  "log-format": { type: "enum", options: [...LOG_FORMATS], default: "text", description: "text ([Role #N]: message) or json" },
  "run-dir": {
    type: "string",
    valueHint: "dir",
    description: "Directory of the fleet's sockets (default $SWITCHYARD_RUN_DIR or /tmp/switchyard-<uid>)",
  },
} satisfies ArgsDef;

export interface LogOptions {
  logLevel: LogLevelName;
  logFormat: LogFormat;
}

/** The logger settings of the common flags (citty has already checked them against the enums). */
export function resolveLogOptions(args: { "log-level"?: string; "log-format"?: string }): LogOptions {
  const level = args["log-level"] ?? "info";
  const format = args["log-format"] ?? "text";
  return { logLevel: isLogLevel(level) ? level : "info", logFormat: isLogFormat(format) ? format : "text" };
}
