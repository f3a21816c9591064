// The front door's protection limits, set in the [load_balancer] table of a config file and
// exercised through the compiled flat fleet: an oversized body (413), an oversized head (431), a
// client too slow with its head (408) and a connection over the limit (503) are refused, while
// other clients are served normally meanwhile.
import { expect, test } from "bun:test";
import { call, helloFrom } from "./_http.ts";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

const LIMITS = `
[watchdog]
proxies = 0
servers = 2

[load_balancer]
max-body-bytes = 1000
max-header-bytes = 2048
header-timeout-ms = 300
max-connections = 4
`;

interface Raw {
  write(text: string): void;
  /** Everything the server sent until it closed the connection (at most 15 s). */
  closed: Promise<string>;
  /** Resolves once the server has sent anything. */
  answered: Promise<void>;
  end(): void;
}

async function open(base: string): Promise<Raw> {
  const { hostname, port } = new URL(base);
  let received = "";
  let onClose!: (text: string) => void;
  let onAnswer!: () => void;
  const closed = new Promise<string>((resolve) => (onClose = resolve));
  const answered = new Promise<void>((resolve) => (onAnswer = resolve));
  const socket = await Bun.connect({
    hostname,
    port: Number(port),
    socket: {
      data: (_, chunk) => {
        received += Buffer.from(chunk).toString("latin1");
        onAnswer();
      },
      close: () => onClose(received),
      error: () => onClose(received),
    },
  });
  const timer = setTimeout(() => socket.end(), 15_000);
  void closed.then(() => clearTimeout(timer));
  return { write: (text) => void socket.write(text), closed, answered, end: () => socket.end() };
}

// fetch() keeps its connections for reuse: these calls close theirs, so only the test's own count against max-connections.
const CLOSE = { connection: "close" };

const statusOf = (raw: string) => Number(/^HTTP\/1\.1 (\d{3}) /.exec(raw)?.[1]);

test("oversized bodies and heads, slow heads and one connection too many are refused; everyone else is served", async () => {
  const file = configFile(LIMITS);
  const fleet = await fleetFor(["--config", file]);
  const base = fleet.httpUrl();

  // 413 for a body over max-body-bytes, declared up front; the limit itself passes.
  const big = await call(base, "POST", "/home", { body: "x".repeat(1001), headers: CLOSE });
  expect(big.status).toBe(413);
  expect(big.json).toEqual({ message: "<Error> request body larger than 1000 bytes", status: "failure" });
  expect((await call(base, "POST", "/home", { body: "x".repeat(1000), headers: CLOSE })).status).toBe(405);

  // 431 for a head over max-header-bytes.
  const long = await call(base, "GET", "/home", { headers: { ...CLOSE, "x-long": "a".repeat(3000) } });
  expect(long.status).toBe(431);

  // A client that starts a head and stalls gets 408 once header-timeout-ms passed; others are served meanwhile.
  const slow = await open(base);
  slow.write("GET /home HTTP/1.1\r\nHost: a\r\n");
  const served = await call(base, "GET", "/home", { headers: CLOSE });
  expect(helloFrom(served)).toBeGreaterThanOrEqual(1);
  const slowAnswer = await slow.closed;
  expect(statusOf(slowAnswer)).toBe(408);

  // max-connections = 4: with 4 held open (keep-alive, after an answer each), the 5th is answered 503 and closed.
  const held = await Promise.all([1, 2, 3, 4].map(() => open(base)));
  for (const connection of held) connection.write("GET /home HTTP/1.1\r\nHost: a\r\n\r\n");
  await Promise.all(held.map((connection) => connection.answered));
  const extra = await open(base);
  const refused = await extra.closed;
  expect(statusOf(refused)).toBe(503);
  expect(refused).toContain("Retry-After: 1");
  for (const connection of held) connection.end();
  await Promise.all(held.map((connection) => connection.closed));

  // Once they are gone there is room again (the load balancer sees their close a moment after the clients do).
  let answer = await call(base, "GET", "/home", { headers: CLOSE });
  for (let tries = 0; answer.status === 503 && tries < 50; tries++) {
    await Bun.sleep(20);
    answer = await call(base, "GET", "/home", { headers: CLOSE });
  }
  expect(helloFrom(answer)).toBeGreaterThanOrEqual(1);
  expect(fleet.watchdog.lines.some((line) => /connection\(s\) over --max-connections 4 refused/.test(line))).toBe(true);
});
