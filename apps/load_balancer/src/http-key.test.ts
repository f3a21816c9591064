import { describe, expect, test } from "bun:test";
import { randomRequestKey } from "@switchyard/upstream";
import { parseHttpKey } from "@switchyard/cli";
import { httpKey } from "./http-key.ts";

describe("--http-key", () => {
  test("parses the three rules; header names are case-insensitive", () => {
    expect(parseHttpKey("--http-key", "request")).toEqual({ kind: "request" });
    expect(parseHttpKey("--http-key", "address")).toEqual({ kind: "address" });
    expect(parseHttpKey("--http-key", "header:X-Client-Id")).toEqual({ kind: "header", name: "x-client-id" });
  });

  test.each(["", "cookie", "header:", "header:bad name"])("rejects %p naming the flag", (raw) => {
    expect(() => parseHttpKey("--http-key", raw)).toThrow(/--http-key/);
  });

  test("request: a six-digit id per request, as seeds/002's R", () => {
    expect(randomRequestKey(() => 0)).toBe(100_000);
    expect(randomRequestKey(() => 0.999_999_9)).toBe(999_999);
    expect(httpKey({ kind: "request" }, [], "127.0.0.1", () => 0.5)).toBe(550_000);
  });

  test("address: the same client always gets the same key, another client (almost surely) another", () => {
    const a = httpKey({ kind: "address" }, [], "10.0.0.1");
    expect(httpKey({ kind: "address" }, [], "10.0.0.1")).toBe(a);
    expect(httpKey({ kind: "address" }, [], "10.0.0.2")).not.toBe(a);
  });

  test("header: a numeric value is the key (like a wire client's id), text is hashed, absence is random", () => {
    const rule = parseHttpKey("--http-key", "header:x-client-id");
    expect(httpKey(rule, [["x-client-id", "107"]], "127.0.0.1")).toBe(107);
    const text = httpKey(rule, [["x-client-id", "alice"]], "127.0.0.1");
    expect(httpKey(rule, [["x-client-id", "alice"]], "127.0.0.1")).toBe(text);
    expect(httpKey(rule, [], "127.0.0.1", () => 0)).toBe(100_000);
  });
});
