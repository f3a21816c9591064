import { expect, test } from "bun:test";
import { resolveHttpLimits } from "./http-limits.ts";

test("only the limits given are set; 0 means no limit for the counts", () => {
  expect(resolveHttpLimits({})).toEqual({});
  expect(
    resolveHttpLimits({ "max-connections": "0", "max-body-bytes": "1000", "max-header-bytes": "2048", "header-timeout-ms": "300", "body-timeout-ms": "5000", "idle-timeout-ms": "0" }),
  ).toEqual({ maxConnections: Number.POSITIVE_INFINITY, maxBodyBytes: 1000, maxHeadBytes: 2048, headerTimeoutMs: 300, bodyTimeoutMs: 5000, idleTimeoutMs: 1 });
});

test.each([
  ["max-connections", "-1"],
  ["max-body-bytes", "1.5"],
  ["max-header-bytes", "100"],
  ["header-timeout-ms", "soon"],
])("--%s %p is refused naming the flag", (flag, value) => {
  expect(() => resolveHttpLimits({ [flag]: value })).toThrow(`--${flag}`);
});
