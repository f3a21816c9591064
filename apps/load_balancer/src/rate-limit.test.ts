import { expect, test } from "bun:test";
import { createRateLimiter, defaultBurst, parseRate } from "./rate-limit.ts";
import { parseRouting } from "./routing.ts";
import { createThrottle } from "./throttle.ts";
import type { IncomingRequest } from "@switchyard/http";

test("a burst passes at once, then one request per 1/rate; the answer says how long to wait", () => {
  const limiter = createRateLimiter({ rate: 2, burst: 3 });
  expect([limiter.take("a", 0), limiter.take("a", 0), limiter.take("a", 0)]).toEqual([0, 0, 0]);
  expect(limiter.take("a", 0)).toBe(500);
  expect(limiter.take("a", 250)).toBe(250);
  expect(limiter.take("a", 500)).toBe(0);
  expect(limiter.take("a", 500)).toBe(500);
  // Quiet for long enough: the burst is back, never more.
  for (let i = 0; i < 3; i++) expect(limiter.take("a", 60_000)).toBe(0);
  expect(limiter.take("a", 60_000)).toBeGreaterThan(0);
});

test("each client has its own bucket", () => {
  const limiter = createRateLimiter({ rate: 1, burst: 1 });
  expect(limiter.take("10.0.0.1", 0)).toBe(0);
  expect(limiter.take("10.0.0.1", 0)).toBe(1000);
  expect(limiter.take("10.0.0.2", 0)).toBe(0);
  expect(limiter.take(7, 0)).toBe(0);
  expect(limiter.clients).toBe(3);
});

test("memory stays bounded: past 100,000 clients the buckets of quiet ones are dropped", () => {
  const limiter = createRateLimiter({ rate: 10, burst: 10 });
  for (let i = 0; i < 100_000; i++) limiter.take(i, 0);
  expect(limiter.clients).toBe(100_000);
  limiter.take("new", 10_000);
  expect(limiter.clients).toBe(1);
});

test("rates: a number per second, or per minute and hour; a burst defaults to a second's worth", () => {
  expect(parseRate("10")).toBe(10);
  expect(parseRate("10/s")).toBe(10);
  expect(parseRate("600/m")).toBe(10);
  expect(parseRate("3600 / hour")).toBe(1);
  for (const bad of ["", "0", "-1", "ten", "5/d", "1/s/s"]) expect(parseRate(bad)).toBeUndefined();
  expect([defaultBurst(0.5), defaultBurst(10), defaultBurst(2.5)]).toEqual([1, 10, 3]);
});

test("the front door's throttle: the global limit for every routed request, a route's own for what it matches", () => {
  const routing = parseRouting({
    path: "t.toml",
    values: { pools: { api: "http://127.0.0.1:1" }, routes: [{ path: "/api/*", pool: "api", "rate-limit": "1/s", "rate-burst": 1 }] },
  });
  const request = (target: string, address = "10.0.0.1") => ({ method: "GET", target, address, headers: [], minor: 1, host: "h", body: null }) as IncomingRequest;
  const throttle = createThrottle({ rate: 100, burst: 100 }, routing.rules)!;
  expect(throttle(request("/api/a"))).toBe(0);
  expect(throttle(request("/api/a"))).toBeGreaterThan(0);
  expect(throttle(request("/other"))).toBe(0);
  expect(throttle(request("/api/a", "10.0.0.2"))).toBe(0);
  expect(createThrottle(undefined, [])).toBeUndefined();
});
