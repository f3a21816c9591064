import { expect, test } from "bun:test";
import { illegalValueReason } from "./legality.ts";

test("non-negative finite numbers may reach a server", () => {
  for (const v of [0, 16, 2.25, 1e300]) expect(illegalValueReason(v)).toBeUndefined();
});

test.each([
  [-3, "negative"],
  [-0.0001, "negative"],
  [Number.NaN, "not finite"],
  [Number.POSITIVE_INFINITY, "not finite"],
  ["16", "not a number"],
  [null, "not a number"],
  [undefined, "not a number"],
])("%p is answered with -1 (%s)", (value, why) => {
  expect(illegalValueReason(value)).toContain(why);
});
