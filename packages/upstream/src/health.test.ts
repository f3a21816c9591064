import { describe, expect, test } from "bun:test";
import { DEFAULT_HEALTH, HealthState, nextCheckDelay } from "./health.ts";

describe("HealthState (rise 2, fall 3)", () => {
  test("stays in after fewer than `fall` failed checks in a row, goes out at the third", () => {
    const h = new HealthState(2, 3);
    expect([h.fail(), h.fail(), h.pass(), h.fail(), h.fail()]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(h.healthy).toBe(true);
    expect(h.fail()).toBe("down");
    expect(h.healthy).toBe(false);
    expect(h.fail()).toBeUndefined(); // reported once
  });

  test("comes back after `rise` passed checks in a row, not after one", () => {
    const h = new HealthState(2, 1);
    h.fail();
    expect([h.pass(), h.fail(), h.pass()]).toEqual([undefined, undefined, undefined]);
    expect(h.pass()).toBe("up");
    expect(h.healthy).toBe(true);
  });

  test("a timed-out request takes it out at once; a new connection brings it back at once", () => {
    const h = new HealthState(2, 3);
    expect(h.failNow()).toBe("down");
    expect(h.failNow()).toBeUndefined();
    expect(h.reset()).toBe("up");
    expect(h.reset()).toBeUndefined();
  });
});

describe("nextCheckDelay", () => {
  test("varies the interval by at most ± the jitter", () => {
    const options = { ...DEFAULT_HEALTH, intervalMs: 1000, jitter: 0.1 };
    expect(nextCheckDelay(options, () => 0)).toBe(900);
    expect(nextCheckDelay(options, () => 0.5)).toBe(1000);
    expect(nextCheckDelay(options, () => 0.999_999)).toBeCloseTo(1100, 0);
  });
});
