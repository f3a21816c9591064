import { expect, test } from "bun:test";
import { LruCache } from "./lru.ts";

test("the least recently used entry goes first when the entry count is reached; a hit makes an entry recent", () => {
  const cache = new LruCache<string, number>({ maxEntries: 2, maxBytes: 1000 });
  cache.set("a", 1, 10);
  cache.set("b", 2, 10);
  expect(cache.get("a")).toBe(1);
  cache.set("c", 3, 10);
  expect([cache.get("a"), cache.get("b"), cache.get("c")]).toEqual([1, undefined, 3]);
  expect([cache.hits, cache.misses]).toEqual([3, 1]);
});

test("bytes are bounded too: entries go oldest first until the new one fits; one larger than the bound is not kept", () => {
  const cache = new LruCache<string, string>({ maxEntries: 100, maxBytes: 100 });
  cache.set("a", "x", 40);
  cache.set("b", "y", 40);
  cache.set("c", "z", 40);
  expect([cache.size, cache.bytes]).toEqual([2, 80]);
  expect(cache.get("a")).toBeUndefined();
  cache.set("huge", "h", 101);
  expect(cache.get("huge")).toBeUndefined();
  expect(cache.size).toBe(2);
  // Replacing an entry counts its new size only.
  cache.set("b", "y2", 10);
  expect([cache.size, cache.bytes]).toEqual([2, 50]);
  expect(cache.delete("b")).toBe(true);
  expect(cache.bytes).toBe(40);
  cache.clear();
  expect([cache.size, cache.bytes]).toEqual([0, 0]);
});
