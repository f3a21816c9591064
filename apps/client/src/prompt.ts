import { parseValue } from "./value.ts";

const PROMPT = "Enter a non-negative float: ";

/**
 * Asks until a line holds a number; undefined when input ends first. Works the same for a
 * terminal and for piped input.
 */
export async function promptForValue(lines: AsyncIterable<string>, write: (text: string) => void): Promise<number | undefined> {
  write(PROMPT);
  for await (const line of lines) {
    const value = parseValue(line);
    if (value !== undefined) return value;
    write(`"${line.trim()}" is not a number. Type a value such as 16 or 2.25.\n${PROMPT}`);
  }
  write("\n");
  return undefined;
}
