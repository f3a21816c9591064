import { expect, setDefaultTimeout, test } from "bun:test";
import { checkHealth, parseLoad } from "./health.ts";
import { Origin } from "./origin.ts";
import { closedPort, okResponse, onCleanup, startRawServer, useCleanups } from "./_test-helpers.ts";

setDefaultTimeout(60_000);
useCleanups();

test("parseLoad reads JSON (total or requests) and the classic errors-then-total lines; anything else is undefined", () => {
  expect(parseLoad('{"requests": 120, "errors": 3}')).toEqual({ total: 120, errors: 3 });
  expect(parseLoad(' {"total": 7, "errors": 0, "uptime": 5} \n')).toEqual({ total: 7, errors: 0 });
  expect(parseLoad("3\n120\n")).toEqual({ errors: 3, total: 120 });
  expect(parseLoad("0\r\n0")).toEqual({ errors: 0, total: 0 });
  for (const other of ["", "OK", "3\n", "1\n2\n3\n", "-1\n5\n", '{"errors": 1}', '{"total": "5", "errors": 1}', '{"total": 1.5, "errors": 0}', "{not json", "[1, 2]", "null"]) {
    expect(parseLoad(other)).toBeUndefined();
  }
});

function origin(url: string): Origin {
  const o = new Origin({ url });
  onCleanup(() => o.close());
  return o;
}

test("checkHealth GETs the path and reads both body styles; non-2xx is not ok", async () => {
  const raw = startRawServer((socket, req) => {
    if (req.target === "/json") socket.write(okResponse('{"requests":42,"errors":2}', "Content-Type: application/json\r\n"));
    else if (req.target === "/healthcheck") socket.write(okResponse("5\n100\n"));
    else if (req.target === "/plain") socket.write(okResponse("I am fine"));
    else if (req.target === "/huge") socket.write(okResponse(`${"9".repeat(5000)}\n1\n`));
    else socket.write("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\n1\n9\n");
  });
  const o = origin(raw.url);
  expect(await checkHealth(o, "/json", 2000)).toEqual({ ok: true, status: 200, load: { total: 42, errors: 2 } });
  expect(await checkHealth(o, "/healthcheck", 2000)).toEqual({ ok: true, status: 200, load: { total: 100, errors: 5 } });
  expect(await checkHealth(o, "/plain", 2000)).toEqual({ ok: true, status: 200 });
  expect(await checkHealth(o, "/huge", 2000)).toEqual({ ok: true, status: 200 }); // over 4 KiB: not read
  expect(await checkHealth(o, "/down", 2000)).toEqual({ ok: false, status: 503, load: { total: 9, errors: 1 } });
  expect(raw.requests.map((r) => [r.method, r.target])).toContainEqual(["GET", "/healthcheck"]);
});

test("checkHealth never throws: an unreachable or silent upstream is not ok, with status 0 and the reason", async () => {
  const refused = await checkHealth(origin(`http://127.0.0.1:${closedPort()}`), "/health", 1000);
  expect(refused).toMatchObject({ ok: false, status: 0 });
  expect(refused.error).toContain("connection refused");
  const silent = startRawServer(() => {});
  const started = performance.now();
  const timedOut = await checkHealth(origin(silent.url), "/health", 200);
  expect(timedOut).toMatchObject({ ok: false, status: 0 });
  expect(timedOut.error).toContain("no response head within 200 ms");
  expect(performance.now() - started).toBeLessThan(2000);
});

test("a body that never ends fails the check at its timeout (as HAProxy's timeout check), never holds it", async () => {
  const raw = startRawServer((socket) => socket.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n1\n"));
  const started = performance.now();
  expect(await checkHealth(origin(raw.url), "/health", 300)).toMatchObject({ ok: false, error: expect.stringContaining("no complete response within 300 ms") });
  expect(performance.now() - started).toBeLessThan(2000);
});
