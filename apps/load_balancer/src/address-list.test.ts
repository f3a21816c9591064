import { expect, test } from "bun:test";
import { parseAddressList } from "./address-list.ts";

test("CIDR blocks and single addresses of both families; IPv4-mapped IPv6 clients match their IPv4 block", () => {
  const list = parseAddressList("--allow", "10.0.0.0/8, 192.168.1.7,::1,fd00::/8")!;
  expect(list.size).toBe(4);
  for (const inside of ["10.0.0.1", "10.255.255.255", "::ffff:10.1.2.3", "192.168.1.7", "::1", "fd12:3456::1"]) expect([inside, list.has(inside)]).toEqual([inside, true]);
  for (const outside of ["11.0.0.1", "192.168.1.8", "::2", "fe80::1", "unknown", ""]) expect([outside, list.has(outside)]).toEqual([outside, false]);
  expect(parseAddressList("--allow", undefined)).toBeUndefined();
});

test.each(["", "abc", "10.0.0.0/33", "::1/129", "10.0.0.0/8/1", "10.0.0.0/x", "10.0.0.256"])("%p is refused naming the flag", (raw) => {
  expect(() => parseAddressList("--deny", raw)).toThrow(/^--deny takes IP addresses or CIDR blocks/);
});
