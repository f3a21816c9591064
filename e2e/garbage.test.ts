// Anything may connect to a socket of the fleet and send anything. Whatever it sends, the member
// keeps running and keeps serving everybody else.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { type Fleet, RawSocket, runClient } from "@switchyard/testing";
import { cleanUpAfterEach, deaths, fleetFor, logLines } from "./_support.ts";
import { decode, frame, hello, lyingFrame, pseudoRandomBytes, sqrtRequest } from "./_wire.ts";

cleanUpAfterEach();

const TARGETS = [
  { socket: "load_balancer.sock", member: "load_balancer" },
  { socket: "reverse_proxy-1.sock", member: "reverse_proxy --id 1" },
  { socket: "server-1.sock", member: "server --id 1 " },
  // Every member's command line names watchdog.sock (--control), so the watchdog is found by its own pid.
  { socket: "watchdog.sock", member: null },
] as const;

async function connect(fleet: Fleet, socket: string): Promise<RawSocket> {
  return RawSocket.connect(join(fleet.runDir, socket));
}

/** Real clients of both proxies still get exact answers. */
async function expectServing(fleet: Fleet): Promise<void> {
  const runs = await Promise.all([
    runClient(["107", "--value", "16", "--run-dir", fleet.runDir]),
    runClient(["112", "--value", "4.0", "--run-dir", fleet.runDir]),
    runClient(["1", "--value", "2", "--run-dir", fleet.runDir]),
  ]);
  expect(runs.map((r) => [r.code, r.result])).toEqual([
    [0, "4.0"],
    [0, "2.0"],
    [0, "1.4142135623730951"],
  ]);
}

/** The answers (res or err) that came back, by request id. */
function answersById(socket: RawSocket): Map<number, Record<string, unknown>> {
  const answers = new Map<number, Record<string, unknown>>();
  for (const body of socket.frames) {
    const message = decode(body);
    if ((message.t === "res" || message.t === "err") && typeof message.id === "number" && message.id !== 0) answers.set(message.id, message);
  }
  return answers;
}

describe.each(TARGETS)("garbage sent to $socket", ({ socket, member }) => {
  test(
    "random bytes, a huge length prefix, frames before hello, bogus messages and a hanging half frame: the member survives and the fleet serves",
    async () => {
      const fleet = await fleetFor();
      const pidNow = () => (member === null ? (fleet.watchdog.proc.exitCode === null ? fleet.watchdog.pid : undefined) : fleet.pidOf(member));
      const pid = pidNow();
      expect(pid).toBeDefined();

      // 1. Random bytes, in several chunks, on a few connections (different seeds).
      for (const seed of [1, 2, 3]) {
        const raw = await connect(fleet, socket);
        for (let chunk = 0; chunk < 4; chunk++) raw.write(pseudoRandomBytes(16 * 1024, seed * 100 + chunk));
        raw.close();
      }

      // 2. A length prefix far beyond any frame (4 GiB - 1): refused without waiting for the body.
      const huge = await connect(fleet, socket);
      huge.write(lyingFrame(0xffff_ffff, new Uint8Array([1, 2, 3])));
      expect(await huge.closedWithin(10_000)).toBe(true);

      // 3. A valid request frame but no hello first: refused, connection closed.
      const rude = await connect(fleet, socket);
      rude.write(sqrtRequest(1, 3, 9));
      expect(await rude.closedWithin(10_000)).toBe(true);

      // 4. Hello, then well-formed frames that are not valid messages, and requests with bogus bodies:
      //    every request gets an answer (an error or, for the proxy, its -1), the connection stays usable.
      const bogus = await connect(fleet, socket);
      bogus.write(hello("client", 1));
      bogus.write(frame({ t: "launch", id: 99 }));
      bogus.write(frame([1, 2, 3]));
      bogus.write(frame("just a string"));
      bogus.write(frame({ t: "req", id: 0, op: "sqrt", body: {} }));
      bogus.write(frame({ t: "req", id: 1, op: "sqrt", body: "sixteen" }));
      bogus.write(frame({ t: "req", id: 2, op: "sqrt", body: { client: -1, value: 4 } }));
      bogus.write(frame({ t: "req", id: 3, op: "sqrt", body: { client: 5, value: "x" } }));
      bogus.write(frame({ t: "req", id: 4, op: "reboot", body: { client: 5, value: 4 } }));
      bogus.write(frame({ t: "res", id: 5, body: { result: 1 } }));
      bogus.write(frame({ t: "hello", v: 99, role: "client", id: 1 }));
      bogus.write(lyingFrame(3, new Uint8Array([0xc1, 0xc1, 0xc1]))); // 0xc1 is never valid MessagePack
      bogus.write(sqrtRequest(6, 7, 49)); // finally a sane request on the same connection
      const expectedIds = [1, 2, 3, 4, 6];
      await bogus.until(() => expectedIds.every((id) => answersById(bogus).has(id)), 10_000);
      const answers = answersById(bogus);
      expect(expectedIds.filter((id) => !answers.has(id))).toEqual([]);
      if (socket !== "watchdog.sock") {
        // Every member but the watchdog answers sqrt: the sane request after all that garbage is served.
        expect(answers.get(6)).toMatchObject({ t: "res", body: { result: 7 } });
      }
      bogus.close();

      // 5. A frame that announces 1000 bytes and stops after 10, left hanging while real clients are served.
      const hanging = await connect(fleet, socket);
      hanging.write(hello("client", 2));
      hanging.write(lyingFrame(1000, new Uint8Array(10)));

      // 6. Many connections opened and dropped at once.
      const crowd = await Promise.all(Array.from({ length: 50 }, () => connect(fleet, socket)));
      for (const raw of crowd) raw.close();

      await expectServing(fleet);
      hanging.close();

      // The member is the same process as before, and nothing in the fleet died or restarted.
      expect(pidNow()).toBe(pid);
      expect(deaths(fleet)).toEqual([]);
      expect(logLines(fleet, /is back/).filter((line) => line.startsWith("[Watchdog]"))).toEqual([]);
    },
    90_000,
  );
});

describe("values a client cannot type, sent straight to the load balancer", () => {
  test("NaN, infinities, a tiny negative and extreme values: the proxy answers -1 where illegal, the server never sees them", async () => {
    const fleet = await fleetFor();
    const raw = await connect(fleet, "load_balancer.sock");
    raw.write(hello("client", 21));
    const values = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1e-300, Number.MAX_VALUE, 1e-300];
    values.forEach((value, k) => raw.write(sqrtRequest(k + 1, 21, value)));
    expect(await raw.framesWithin(values.length + 1, 10_000)).toBe(true);
    const answers = answersById(raw);
    const results = values.map((_, k) => (answers.get(k + 1)?.body as { result?: unknown } | undefined)?.result);
    expect(results).toEqual([-1, -1, -1, -1, Math.sqrt(Number.MAX_VALUE), Math.sqrt(1e-300)]);
    raw.close();
    await fleet.watchdog.waitForLines(/^\[Reverse Proxy #1\]: Illegal request from Client #21\. Returning -1\.$/, 4);
    // Two legal values reached a server; the four illegal ones did not (barrier: both legal ones are logged).
    await fleet.watchdog.waitForLines(/^\[Server #[1-3]\]: Received the value .* from Client #21\./, 2);
    expect(logLines(fleet, /^\[Server #\d+\]: Received the value .* from Client #21\./)).toHaveLength(2);
    expect(deaths(fleet)).toEqual([]);
  });
});
