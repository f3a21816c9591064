export { LOG_FORMATS, LOG_LEVELS, type LogFormat, type LogLevelName, isLogFormat, isLogLevel } from "./levels.ts";
export { type Logger, type LoggerOptions, createLogger, infoEnabled } from "./logger.ts";
export { type LineSink, createReporter, writeLine } from "./reporter.ts";
export { writeOut } from "./output.ts";
