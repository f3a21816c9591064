// The front door as an HTTP/1.1 server, through the compiled flat fleet: what raw clients send that
// fetch() never would (pipelining, broken requests, oversized heads, HTTP/1.0) gets the answer a
// web server gives, and the fleet keeps serving everyone else.
import { expect, test } from "bun:test";
import { call, helloFrom, rawExchange } from "./_http.ts";

/** The answers to `request` written on a fresh connection, as text (latin1: byte for byte). */
const exchange = async (base: string, request: string) => (await rawExchange(base, request)).toString("latin1");
import { cleanUpAfterEach, fleetFor } from "./_support.ts";

cleanUpAfterEach();

/** The status codes of every answer in `raw`, in order. */
const statuses = (raw: string) => [...raw.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));

test("pipelined, HTTP/1.0, malformed and oversized requests get a web server's answers, and the fleet keeps serving", async () => {
  const fleet = await fleetFor(["--proxies", "0"]);
  const base = fleet.httpUrl();

  // Two requests in one write: both answered, in order, by the servers; the second closes.
  const pipelined = await exchange(base, "GET /home HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n");
  expect(statuses(pipelined)).toEqual([200, 400]);
  expect(pipelined).toContain("Hello from Server: ");
  expect(pipelined).toContain("<Error> '/nope' endpoint does not exist in server replicas");

  // HTTP/1.0 without keep-alive: one answer, with Content-Length, then the connection closes.
  const old = await exchange(base, "GET /home HTTP/1.0\r\n\r\n");
  expect(statuses(old)).toEqual([200]);
  expect(old).toMatch(/\r\nContent-Length: \d+\r\n/i);
  expect(old).toContain("Connection: close");

  // What could be read two ways is refused with the status that says why, and the connection closed.
  const refused: Array<[string, number]> = [
    ["GET /home HTTP/1.1\r\n\r\n", 400], // no Host
    ["POST /home HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
    ["GET /home HTTP/1.1\r\nHost: a\r\nBad Header: x\r\n\r\n", 400],
    [`GET /home HTTP/1.1\r\nHost: a\r\nX-Big: ${"a".repeat(70 * 1024)}\r\n\r\n`, 431],
    ["GET /home HTTP/2.0\r\nHost: a\r\n\r\n", 505],
  ];
  for (const [request, status] of refused) {
    const answer = await exchange(base, request);
    expect(statuses(answer)).toEqual([status]);
    expect(answer).toContain('"status":"failure"');
  }

  // Meanwhile nothing broke: a normal client is served as before.
  const home = await call(base, "GET", "/home");
  expect(home.status).toBe(200);
  expect(helloFrom(home)).toBeGreaterThanOrEqual(1);
  expect(fleet.watchdog.lines.filter((line) => /has died|exited/.test(line))).toEqual([]);
});
