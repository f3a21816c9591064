import { describe, expect, test } from "bun:test";
import { CliError } from "@switchyard/cli";
import { DEFAULT_POOL, parseRouting, selectPool } from "./routing.ts";

const file = (values: Record<string, unknown>) => ({ path: "switchyard.toml", values });
const routing = parseRouting(
  file({
    pools: { api: ["http://127.0.0.1:8081"], static: "http://127.0.0.1:9000", canary: ["http://127.0.0.1:7000"] },
    routes: [
      { path: "/api/*", pool: "api" },
      { host: "admin.local", pool: "static" },
      { host: "*.cdn.example", path: "/img", pool: "static" },
      { method: ["POST", "put"], header: { name: "X-Canary", value: "1" }, pool: "canary" },
      { header: { name: "x-debug" }, pool: DEFAULT_POOL },
      { path: "/", pool: "api" },
    ],
  }),
);
const pick = (method: string, path: string, headers: Array<[string, string]> = [["host", "lb.local"]]) => selectPool(routing.rules, method, path, headers);

describe("selectPool", () => {
  test("path prefixes: /api/* is everything under /api/; a pattern without * is that path and what is under it", () => {
    expect(pick("GET", "/api/users")).toBe("api");
    expect(pick("GET", "/api/")).toBe("api");
    // "/api" itself does not start with "/api/": the next rules decide (the catch-all "/" here).
    expect(pick("GET", "/apix")).toBe("api");
    expect(selectPool(parseRouting(file({ pools: { p: "http://a:1" }, routes: [{ path: "/img", pool: "p" }] })).rules, "GET", "/img", [])).toBe("p");
    expect(selectPool(parseRouting(file({ pools: { p: "http://a:1" }, routes: [{ path: "/img", pool: "p" }] })).rules, "GET", "/img/a.png", [])).toBe("p");
    expect(selectPool(parseRouting(file({ pools: { p: "http://a:1" }, routes: [{ path: "/img", pool: "p" }] })).rules, "GET", "/imgs", [])).toBe(DEFAULT_POOL);
  });

  test("hosts match without their port and in any case; *.domain matches its subdomains", () => {
    expect(pick("GET", "/x", [["host", "Admin.Local:5000"]])).toBe("static");
    expect(pick("GET", "/img/a.png", [["host", "eu.cdn.example"]])).toBe("static");
    // Both conditions of a rule must hold: the right host with another path falls through.
    expect(pick("GET", "/video", [["host", "eu.cdn.example"]])).toBe("api");
  });

  test("methods and headers: every condition must hold, and the first rule that matches wins", () => {
    expect(pick("PUT", "/upload", [["host", "lb.local"], ["x-canary", "1"]])).toBe("canary");
    expect(pick("GET", "/upload", [["host", "lb.local"], ["x-canary", "1"]])).toBe("api");
    expect(pick("POST", "/upload", [["host", "lb.local"], ["x-canary", "2"]])).toBe("api");
    expect(pick("GET", "/anything", [["host", "lb.local"], ["X-Debug", ""]])).toBe(DEFAULT_POOL);
  });

  test("no rules, or none that matches: the default pool", () => {
    expect(selectPool([], "GET", "/", [])).toBe(DEFAULT_POOL);
    expect(selectPool(parseRouting(file({ pools: { p: "http://a:1" }, routes: [{ host: "x", pool: "p" }] })).rules, "GET", "/", [])).toBe(DEFAULT_POOL);
  });
});

describe("parseRouting", () => {
  test("pools keep their order and normalise their URLs; no routes is fine", () => {
    expect(routing.pools.get("static")).toEqual(["http://127.0.0.1:9000"]);
    expect(parseRouting(file({})).rules).toEqual([]);
  });

  test.each([
    [{ pools: { default: ["http://a:1"] } }, /pools.default: a pool name/],
    [{ pools: { "bad name": ["http://a:1"] } }, /pool name/],
    [{ pools: { p: [] } }, /pools.p: must be a URL or a non-empty list/],
    [{ pools: { p: ["https://a:1"] } }, /pools.p/],
    [{ pools: ["http://a:1"] }, /pools: must be a table/],
    [{ routes: { path: "/" } }, /routes: must be a list/],
    [{ routes: [{ path: "/" }] }, /routes\[1\]: pool undefined is not one of/],
    [{ routes: [{ path: "/", pool: "nope" }] }, /routes\[1\]: pool "nope"/],
    [{ routes: [{ path: "api", pool: "default" }] }, /path "api" must start with \//],
    [{ routes: [{ path: "/a?b", pool: "default" }] }, /query cannot be matched/],
    [{ routes: [{ pth: "/", pool: "default" }] }, /unknown key "pth"/],
    [{ routes: [{ method: [], pool: "default" }] }, /method must be/],
    [{ routes: [{ header: "X-A", pool: "default" }] }, /header must be/],
    [{ routes: [{ host: "a/b", pool: "default" }] }, /host "a\/b" must be a host name/],
    [{ routes: [{ path: "/", pool: "default", "rate-limit": "fast" }] }, /rate-limit must be requests per second/],
    [{ routes: [{ path: "/", pool: "default", "rate-limit": 5, "rate-burst": 0 }] }, /rate-burst must be an integer/],
  ])("%j is refused with exit 78 naming the entry", (values, message) => {
    let error: unknown;
    try {
      parseRouting(file(values));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(78);
    expect((error as Error).message).toStartWith("switchyard.toml: [load_balancer] ");
    expect((error as Error).message).toMatch(message);
  });
});
