// The front door's HTTP cache (--http-cache-entries in the [load_balancer] table of a config file),
// through the compiled flat fleet in front of a real HTTP service that says how its answers may be
// cached: hits with Age, misses, expiry, no-store, request coalescing, purge and the hit ratio.
import { expect, test } from "bun:test";
import { call, startUpstream } from "./_http.ts";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

test("fresh answers come from the cache, stale and no-store ones from the service; concurrent misses make one request; purge empties it", async () => {
  const upstream = await startUpstream("origin");
  const fleet = await fleetFor([
    "--config",
    configFile(`
[watchdog]
proxies = 0
servers = 0
upstream = ["${upstream.url}"]

[load_balancer]
http-cache-entries = 100
`),
  ]);
  const base = fleet.httpUrl();
  /** How many times the service logged `line`, once it has logged it at least `atLeast` times (its output comes through a pipe). */
  const seen = async (line: string, atLeast: number) => {
    await upstream.process.waitForLines(new RegExp(`^${line.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}$`), atLeast);
    return upstream.process.stdoutLines.filter((l) => l === line).length;
  };
  const get = (path: string, cacheControl?: string) => call(base, "GET", path, { headers: cacheControl === undefined ? {} : { "x-want-cache-control": cacheControl } });

  // max-age=60: a miss, then hits with an Age, one request upstream.
  const first = await get("/a", "public, max-age=60");
  expect([first.status, first.headers.get("x-cache")]).toEqual([200, "MISS"]);
  const second = await get("/a", "public, max-age=60");
  expect([second.status, second.headers.get("x-cache"), second.headers.get("age")]).toEqual([200, "HIT", "0"]);
  expect(second.text).toBe(first.text);
  expect(await seen("echo GET /a", 1)).toBe(1);

  // no-store (the service's default here): never kept.
  for (let i = 0; i < 2; i++) expect((await get("/b")).headers.get("x-cache")).toBe("MISS");
  expect(await seen("echo GET /b", 2)).toBe(2);

  // max-age=1: refetched once it is stale.
  expect((await get("/c", "max-age=1")).headers.get("x-cache")).toBe("MISS");
  expect((await get("/c", "max-age=1")).headers.get("x-cache")).toBe("HIT");
  await Bun.sleep(1100);
  expect((await get("/c", "max-age=1")).headers.get("x-cache")).toBe("MISS");
  expect(await seen("echo GET /c", 2)).toBe(2);

  // Five clients miss the same slow URL at once: the service sees one request, all get its answer.
  const slow = await Promise.all(Array.from({ length: 5 }, () => get("/slow?ms=400", "max-age=60")));
  expect(slow.map((answer) => [answer.status, answer.text])).toEqual(Array.from({ length: 5 }, () => [200, "slow answer\n"]));
  expect(await seen("slow request started (400 ms)", 1)).toBe(1);

  // The admin API: the hit ratio, then a purge of one URL (the next request misses).
  const stats = await call(base, "GET", "/cache");
  const message = (stats.json as { message: { hits: number; misses: number; hitRatio: number; entries: number } }).message;
  expect(message.hits).toBeGreaterThanOrEqual(6);
  expect(message.hitRatio).toBeCloseTo(message.hits / (message.hits + message.misses), 5);
  const purged = await call(base, "DELETE", "/cache?target=/a");
  expect((purged.json as { message: { purged: number } }).message.purged).toBe(1);
  expect((await get("/a", "public, max-age=60")).headers.get("x-cache")).toBe("MISS");
  expect(await seen("echo GET /a", 2)).toBe(2);
});
