import { expect, test } from "bun:test";
import { measurePolicy, requestIds, ringPicture, spread } from "./model.ts";

const keys = requestIds(10_000, 2024);

test("request ids are six digits and the same on every run", () => {
  expect(keys.every((k) => Number.isInteger(k) && k >= 100_000 && k <= 999_999)).toBe(true);
  expect(requestIds(5, 2024)).toEqual(keys.slice(0, 5));
  expect(requestIds(5, 7)).not.toEqual(keys.slice(0, 5));
});

test("spread: max/mean and the coefficient of variation of per-upstream counts", () => {
  expect(spread([5, 5])).toEqual({ counts: [5, 5], maxMean: 1, cv: 0 });
  const uneven = spread([9, 1]);
  expect(uneven.maxMean).toBeCloseTo(1.8);
  expect(uneven.cv).toBeCloseTo(0.8);
});

test("the seed's ring at N = 3: keys reach 87 slots, the virtual servers sit in slots 26-114, Server 1 owns the wrap-around", () => {
  const seed = ringPicture("quadratic", 3, keys);
  expect(seed.keySlots).toBe(87);
  expect(seed.keysAt.reduce((a, b) => a + b, 0)).toBe(keys.length);
  const slots = seed.vnodes.map((v) => v.slot);
  expect([Math.min(...slots), Math.max(...slots)]).toEqual([26, 114]);
  expect(seed.vnodes.find((v) => v.slot === 26)?.server).toBe(1);
  expect(seed.arcs.reduce((a, b) => a + b, 0)).toBe(512);
  expect(seed.arcs[0]).toBeGreaterThan(400);

  const strong = ringPicture("xxh32", 3, keys);
  expect(strong.keySlots).toBe(512);
  expect(Math.max(...strong.arcs)).toBeLessThan(256);
});

test("measurePolicy agrees with what the ring shows, and moved is about 1/N for the hashing policies", () => {
  const seed = measurePolicy("consistent-hash", 3, keys);
  expect(seed.counts.reduce((a, b) => a + b, 0)).toBe(keys.length);
  expect(seed.maxMean).toBeGreaterThan(2.4);
  const maglev = measurePolicy("maglev", 3, keys);
  expect(maglev.maxMean).toBeLessThan(1.1);
  expect(maglev.moved).toBeCloseTo(1 / 3, 1);
  expect(() => measurePolicy("no-such-policy", 3, keys)).toThrow(/unknown policy/);
});
