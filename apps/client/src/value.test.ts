import { expect, test } from "bun:test";
import { promptForValue } from "./prompt.ts";
import { parseValue } from "./value.ts";

test.each([["16", 16], ["4.0", 4], [" 2.25 ", 2.25], ["-3", -3], [".5", 0.5], ["1e2", 100], ["+7", 7]])("%p is the number %p", (text, value) => {
  expect(parseValue(text)).toBe(value);
});

test.each(["", "abc", "4,0", "0x10", "Infinity", "NaN", "1e999", "16 apples", "--1"])("%p is not a number", (text) => {
  expect(parseValue(text)).toBeUndefined();
});

async function* lines(...items: string[]) {
  yield* items;
}

test("the prompt repeats after non-numeric input and returns the first number", async () => {
  let shown = "";
  const value = await promptForValue(lines("abc", "", "16"), (t) => (shown += t));
  expect(value).toBe(16);
  expect(shown.split("Enter a non-negative float: ").length - 1).toBe(3);
  expect(shown).toContain('"abc" is not a number');
});

test("end of input before a value gives undefined", async () => {
  expect(await promptForValue(lines("x"), () => {})).toBeUndefined();
});
