import { expect, test } from "bun:test";
import { RoomsCache } from "./rooms-cache.ts";

const check = { cmd: "check", room: "ME4326" } as const;
const reserve = { cmd: "reserve", room: "ME4326", slot: "8:30-9:30", day: "Friday" } as const;

test("the lists are cached for good; writes and quit never are", () => {
  const cache = new RoomsCache(5000);
  expect(cache.get({ cmd: "rooms" }, 0)).toBeUndefined();
  cache.put({ cmd: "rooms" }, ["SA318"], 3, 0);
  cache.put(reserve, ["Reservation confirmed"], 9, 1);
  expect(cache.get({ cmd: "rooms" }, 1e9)).toEqual(["SA318"]);
  expect(cache.get(reserve, 2)).toBeUndefined();
  expect(cache.get({ cmd: "quit" }, 2)).toBeUndefined();
  expect([cache.hits, cache.misses]).toEqual([1, 1]);
});

test("a check is shown from the cache within its TTL, and never once older than this client's own last write", () => {
  const cache = new RoomsCache(5000);
  cache.put(check, ["No room reservation found"], 4, 0);
  expect(cache.get(check, 4999)).toEqual(["No room reservation found"]);
  expect(cache.get(check, 5000)).toBeUndefined();
  cache.put(check, ["No room reservation found"], 4, 6000);
  cache.put(reserve, ["Reservation confirmed"], 5, 6001);
  expect(cache.get(check, 6002)).toBeUndefined();
  cache.put(check, ["ME4326 8:30-9:30 Friday"], 5, 6003);
  expect(cache.get(check, 6004)).toEqual(["ME4326 8:30-9:30 Friday"]);
});
