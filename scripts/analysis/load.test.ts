import { afterEach, expect, test } from "bun:test";
import { sendLoad } from "./load.ts";

let server: ReturnType<typeof Bun.serve> | undefined;
afterEach(() => {
  server?.stop(true);
  server = undefined;
});

/** A stand-in front door on 127.0.0.1: answers like the fleet's servers, and fails when `fail(i)` says so. */
function frontDoor(fail: (i: number) => number | undefined): { base: string; peak: () => number } {
  let requests = 0;
  let inflight = 0;
  let peak = 0;
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch() {
      const i = ++requests;
      inflight++;
      peak = Math.max(peak, inflight);
      await Bun.sleep(1);
      inflight--;
      const status = fail(i);
      if (status !== undefined) return new Response("no", { status });
      return Response.json({ message: `Hello from Server: ${(i % 3) + 1}`, status: "successful" });
    },
  });
  return { base: `http://127.0.0.1:${server.port}`, peak: () => peak };
}

test("counts answers per server from the answers' text, at most `concurrency` in flight, exactly `count` requests", async () => {
  const door = frontDoor(() => undefined);
  const result = await sendLoad(door.base, { count: 300, concurrency: 8, durationMs: 30_000, timeoutMs: 5000 });
  expect(result.answers).toHaveLength(300);
  expect(result.failed).toBe(0);
  expect([...result.perServer.values()].reduce((a, b) => a + b, 0)).toBe(300);
  expect([...result.perServer.keys()].sort()).toEqual([1, 2, 3]);
  expect(door.peak()).toBeLessThanOrEqual(8);
  const times = result.answers.map((a) => a.at);
  expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
});

test("a failed request is counted with its reason and never as a server's answer", async () => {
  const door = frontDoor((i) => (i % 10 === 0 ? 502 : undefined));
  const result = await sendLoad(door.base, { count: 100, concurrency: 4, durationMs: 30_000, timeoutMs: 5000 });
  expect(result.failed).toBe(10);
  expect(result.errors).toEqual(new Map([["HTTP 502", 10]]));
  expect([...result.perServer.values()].reduce((a, b) => a + b, 0)).toBe(90);
  expect(result.answers.filter((a) => a.server === null)).toHaveLength(10);
});

test("nothing listening: every request fails with the fetch error, none hangs", async () => {
  const door = frontDoor(() => undefined);
  server?.stop(true);
  const result = await sendLoad(door.base, { count: 5, concurrency: 2, durationMs: 30_000, timeoutMs: 2000 });
  expect(result.failed).toBe(5);
  expect(result.perServer.size).toBe(0);
});
