import type { HttpKeyRule } from "@switchyard/cli";
import { randomRequestKey } from "@switchyard/upstream";

const MAX_KEY = 0xffff_ffff;

export function httpKey(rule: HttpKeyRule, headers: Headers, address: string, random: () => number = Math.random): number {
  if (rule.kind === "address") return Bun.hash.crc32(address);
  if (rule.kind === "header") {
    const value = headers.get(rule.name);
    if (value !== null && value !== "") {
      const number = Number(value);
      return Number.isSafeInteger(number) && number >= 1 && number <= MAX_KEY ? number : Bun.hash.crc32(value);
    }
  }
  return randomRequestKey(random);
}
