import type { HttpKeyRule } from "@switchyard/cli";
import type { HeaderList } from "@switchyard/http";
import { randomRequestKey } from "@switchyard/upstream";

const MAX_KEY = 0xffff_ffff;

/** The policy's key for one HTTP request; `headers` as the front door read them (names lower-cased). */
export function httpKey(rule: HttpKeyRule, headers: HeaderList, address: string, random: () => number = Math.random): number {
  if (rule.kind === "address") return Bun.hash.crc32(address);
  if (rule.kind === "header") {
    const value = headers.find(([name]) => name === rule.name)?.[1];
    if (value !== undefined && value !== "") {
      const number = Number(value);
      return Number.isSafeInteger(number) && number >= 1 && number <= MAX_KEY ? number : Bun.hash.crc32(value);
    }
  }
  return randomRequestKey(random);
}
