import { describe, expect, test } from "bun:test";
import { CliError } from "./errors.ts";
import { formatFloat } from "./format.ts";
import { parseInteger, parseMillis, parseUpstreamList } from "./values.ts";

describe("parseInteger", () => {
  test("accepts integers in range", () => {
    expect(parseInteger("--n", "3", 1, 10)).toBe(3);
  });
  test.each(["0", "-1", "1.5", "abc", "", " ", "11", "1e3x"])("rejects %p with a message naming the flag", (raw) => {
    expect(() => parseInteger("--n", raw, 1, 10)).toThrow(CliError);
    expect(() => parseInteger("--n", raw, 1, 10)).toThrow(/--n must be an integer from 1 to 10/);
  });
});

test("parseMillis rejects negative and non-numeric values", () => {
  expect(parseMillis("--work-ms", "2.5")).toBe(2.5);
  expect(() => parseMillis("--work-ms", "-1")).toThrow(/non-negative/);
  expect(() => parseMillis("--work-ms", "soon")).toThrow(/non-negative/);
});

describe("parseUpstreamList", () => {
  test("reads numbered unix and tcp addresses", () => {
    expect(parseUpstreamList("--upstreams", "1=unix:/tmp/a.sock,4=tcp://127.0.0.1:7001")).toEqual([
      { n: 1, address: { kind: "unix", path: "/tmp/a.sock" } },
      { n: 4, address: { kind: "tcp", host: "127.0.0.1", port: 7001 } },
    ]);
  });
  test("an empty list is a tier that starts without members (they come from /add)", () => {
    expect(parseUpstreamList("--upstreams", "")).toEqual([]);
  });
  test.each([
    ["unix:/tmp/a.sock", /not N=ADDRESS/],
    ["1=unix:/a,1=unix:/b", /listed twice/],
    ["x=unix:/a", /number must be an integer/],
    ["1=http://example", /not an address/],
  ])("rejects %p", (raw, message) => {
    expect(() => parseUpstreamList("--upstreams", raw)).toThrow(message);
  });
});

test("formatFloat prints at least one decimal, full precision otherwise (the seed's Result lines)", () => {
  expect(formatFloat(4)).toBe("4.0");
  expect(formatFloat(-1)).toBe("-1.0");
  expect(formatFloat(Math.SQRT2)).toBe("1.4142135623730951");
  expect(formatFloat(0)).toBe("0.0");
});
