import { expect, test } from "bun:test";
import { isLogFormat, isLogLevel, LOG_LEVELS } from "./levels.ts";

test("isLogLevel accepts the --log-level names and nothing else", () => {
  for (const name of ["silent", "error", "warn", "info", "debug", "trace"]) expect(isLogLevel(name)).toBe(true);
  for (const name of ["", "INFO", "warning", "verbose", "toString", "constructor", "__proto__"]) expect(isLogLevel(name)).toBe(false);
});

test("levels are ordered quietest first", () => {
  const values = Object.values(LOG_LEVELS);
  expect(values).toEqual([...values].sort((a, b) => a - b));
});

test("isLogFormat accepts text and json only", () => {
  expect(isLogFormat("text")).toBe(true);
  expect(isLogFormat("json")).toBe(true);
  expect(isLogFormat("JSON")).toBe(false);
  expect(isLogFormat("pretty")).toBe(false);
});
