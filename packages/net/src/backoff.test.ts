import { describe, expect, test } from "bun:test";
import { createBackoff } from "./backoff.ts";

describe("createBackoff", () => {
  test("without jitter (random = 0.5) it doubles from initialMs and stops growing at maxMs", () => {
    const backoff = createBackoff({ initialMs: 10, maxMs: 1000, random: () => 0.5 });
    const delays = Array.from({ length: 10 }, () => backoff.next());
    expect(delays).toEqual([10, 20, 40, 80, 160, 320, 640, 1000, 1000, 1000]);
  });

  test("jitter stays within ±20 % of the base delay, at both extremes of random", () => {
    const low = createBackoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
    const high = createBackoff({ initialMs: 100, maxMs: 1000, random: () => 0.999_999 });
    expect([low.next(), low.next(), low.next()]).toEqual([80, 160, 320]);
    expect([high.next(), high.next(), high.next()]).toEqual([120, 240, 480]);
  });

  test("at the cap, jitter still spreads delays (so a fleet does not reconnect in lockstep) within [0.8, 1.2] × maxMs", () => {
    let r = 0;
    const values = [0, 0.25, 0.5, 0.75, 0.999_999];
    const backoff = createBackoff({ initialMs: 1000, maxMs: 1000, random: () => values[r++ % values.length]! });
    const delays = values.map(() => backoff.next());
    expect(delays).toEqual([800, 900, 1000, 1100, 1200]);
  });

  test("many attempts never overflow to Infinity or NaN", () => {
    const backoff = createBackoff({ initialMs: 10, maxMs: 5000, random: () => 0.5 });
    let last = 0;
    for (let i = 0; i < 2000; i++) last = backoff.next();
    expect(last).toBe(5000);
  });

  test("reset starts again from initialMs", () => {
    const backoff = createBackoff({ initialMs: 10, maxMs: 1000, random: () => 0.5 });
    backoff.next();
    backoff.next();
    backoff.next();
    backoff.reset();
    expect(backoff.next()).toBe(10);
    expect(backoff.next()).toBe(20);
  });

  test("asks the injected random once per delay", () => {
    let calls = 0;
    const backoff = createBackoff({ initialMs: 10, maxMs: 100, random: () => (calls++, 0.5) });
    backoff.next();
    backoff.next();
    expect(calls).toBe(2);
  });

  test("defaults to Math.random, within the jitter bounds", () => {
    const backoff = createBackoff({ initialMs: 100, maxMs: 100 });
    for (let i = 0; i < 200; i++) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(80);
      expect(delay).toBeLessThanOrEqual(120);
    }
  });
});
