import { type ConsolaInstance, createConsola } from "consola";
import { LOG_LEVELS, type LogFormat, type LogLevelName } from "./levels.ts";
import { type LineSink, createReporter } from "./reporter.ts";

export interface LoggerOptions {
  /** Shown in every line: "Watchdog", "Load Balancer", "Reverse Proxy #1", "Server #2". */
  role: string;
  level?: LogLevelName;
  format?: LogFormat;
  sink?: LineSink;
}

export type Logger = ConsolaInstance;

export function createLogger(options: LoggerOptions): Logger {
  return createConsola({
    level: LOG_LEVELS[options.level ?? "info"],
    reporters: [createReporter(options.role, options.format ?? "text", options.sink)],
    // Every line is an event of its own: never fold repeats into "(repeated 5 times)".
    throttle: 0,
  });
}

/** True when `info` lines would be printed; hot paths check it before building a message. */
export function infoEnabled(logger: Logger): boolean {
  return logger.level >= LOG_LEVELS.info;
}
