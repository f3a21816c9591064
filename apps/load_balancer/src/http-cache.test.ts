import { describe, expect, test } from "bun:test";
import type { IncomingRequest } from "@switchyard/http";
import { HttpCache, cacheControl, freshness } from "./http-cache.ts";

const request = (target: string, headers: Array<[string, string]> = [], method = "GET") => ({ method, target, headers, host: "app.local", address: "10.0.0.1", minor: 1, body: null }) as IncomingRequest;
const body = new TextEncoder().encode("hello");
const newCache = () => new HttpCache({ maxEntries: 100, maxBytes: 1 << 20 });

describe("what is stored", () => {
  test.each([
    ["public, max-age=60", true],
    ["s-maxage=60", true],
    ["max-age=0", false],
    ["no-store, max-age=60", false],
    ["private, max-age=60", false],
    ["no-cache, max-age=60", false],
  ])("Cache-Control %p → stored %p", (value, stored) => {
    expect(newCache().offer(request("/a"), 200, [["Cache-Control", value]], body)).toBe(stored);
  });

  test("without explicit freshness, another status, a HEAD, Vary: *, or Authorization without public: not stored", () => {
    const cache = newCache();
    expect(cache.offer(request("/a"), 200, [], body)).toBe(false);
    expect(cache.offer(request("/a"), 500, [["Cache-Control", "max-age=60"]], body)).toBe(false);
    expect(cache.offer(request("/a", [], "HEAD"), 200, [["Cache-Control", "max-age=60"]], undefined)).toBe(false);
    expect(cache.offer(request("/a"), 200, [["Cache-Control", "max-age=60"], ["Vary", "*"]], body)).toBe(false);
    expect(cache.offer(request("/a", [["authorization", "Bearer x"]]), 200, [["Cache-Control", "max-age=60"]], body)).toBe(false);
    expect(cache.offer(request("/a", [["authorization", "Bearer x"]]), 200, [["Cache-Control", "public, max-age=60"]], body)).toBe(true);
    expect(cache.offer(request("/a", [["cache-control", "no-store"]]), 200, [["Cache-Control", "max-age=60"]], body)).toBe(false);
  });

  test("freshness: s-maxage over max-age over Expires − Date", () => {
    expect(freshness(cacheControl("max-age=10, s-maxage=20"), [])).toBe(20);
    expect(freshness(cacheControl('max-age="30"'), [])).toBe(30);
    expect(freshness(cacheControl(undefined), [["Date", "Sat, 21 Nov 2026 10:00:00 GMT"], ["Expires", "Sat, 21 Nov 2026 10:05:00 GMT"]])).toBe(300);
    expect(freshness(cacheControl(undefined), [["Expires", "0"]])).toBe(0);
    expect(freshness(cacheControl(undefined), [])).toBeUndefined();
  });
});

describe("what is served", () => {
  test("a fresh copy with Age and X-Cache: HIT, to GET and HEAD alike; counted in the stats", () => {
    const cache = newCache();
    expect(cache.lookup(request("/a"))).toBeUndefined();
    cache.offer(request("/a"), 200, [["Cache-Control", "max-age=60"], ["Content-Type", "text/plain"], ["Age", "3"]], body);
    const hit = cache.lookup(request("/a", [], "HEAD"))!;
    expect(hit.status).toBe(200);
    expect(hit.body).toEqual(body);
    expect(hit.headers).toEqual([["Cache-Control", "max-age=60"], ["Content-Type", "text/plain"], ["Age", "3"], ["X-Cache", "HIT"]]);
    expect(cache.stats).toMatchObject({ entries: 1, hits: 1, misses: 1, hitRatio: 0.5 });
  });

  test("a copy older than its freshness (its Age counts) is a miss", () => {
    const cache = newCache();
    cache.offer(request("/a"), 200, [["Cache-Control", "max-age=3"], ["Age", "5"]], body);
    expect(cache.lookup(request("/a"))).toBeUndefined();
  });

  test("a request that asks for a fresh answer (no-cache, max-age=0, Pragma) bypasses the copy", () => {
    const cache = newCache();
    cache.offer(request("/a"), 200, [["Cache-Control", "max-age=60"]], body);
    for (const headers of [[["cache-control", "no-cache"]], [["cache-control", "max-age=0"]], [["pragma", "no-cache"]]] as Array<Array<[string, string]>>) {
      expect(cache.lookup(request("/a", headers))).toBeUndefined();
    }
  });

  test("Vary keeps one variant per value of the named request headers", () => {
    const cache = newCache();
    const vary: Array<[string, string]> = [["Cache-Control", "max-age=60"], ["Vary", "Accept-Language"]];
    cache.offer(request("/a", [["accept-language", "fr"]]), 200, vary, new TextEncoder().encode("bonjour"));
    cache.offer(request("/a", [["accept-language", "en"]]), 200, vary, new TextEncoder().encode("hello"));
    expect(new TextDecoder().decode(cache.lookup(request("/a", [["accept-language", "fr"]]))!.body)).toBe("bonjour");
    expect(new TextDecoder().decode(cache.lookup(request("/a", [["accept-language", "en"]]))!.body)).toBe("hello");
    expect(cache.lookup(request("/a", [["accept-language", "de"]]))).toBeUndefined();
    expect(cache.stats.entries).toBe(1);
  });

  test("purge: one target on every host, or everything", () => {
    const cache = newCache();
    cache.offer(request("/a"), 200, [["Cache-Control", "max-age=60"]], body);
    cache.offer({ ...request("/a"), host: "other.local" } as IncomingRequest, 200, [["Cache-Control", "max-age=60"]], body);
    cache.offer(request("/b"), 200, [["Cache-Control", "max-age=60"]], body);
    expect(cache.purge("/a")).toBe(2);
    expect(cache.lookup(request("/a"))).toBeUndefined();
    expect(cache.purge()).toBe(1);
    expect(cache.stats.entries).toBe(0);
  });
});

test("concurrent misses for one key: the first fetches, the others wait and are answered from what it stored", async () => {
  const cache = newCache();
  let fetches = 0;
  const fetch = async () => {
    fetches++;
    await Bun.sleep(20);
    cache.offer(request("/slow"), 200, [["Cache-Control", "max-age=60"]], body);
    return "fetched";
  };
  const answers = await Promise.all(Array.from({ length: 5 }, () => cache.coalesce(request("/slow"), fetch, () => (cache.lookup(request("/slow"), false) ? "hit" : undefined))));
  expect(fetches).toBe(1);
  expect(answers.sort()).toEqual(["fetched", "hit", "hit", "hit", "hit"]);
});
