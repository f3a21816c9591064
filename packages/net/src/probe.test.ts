import { afterEach, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { probe } from "./probe.ts";
import { makeTempDir, waitFor } from "./_test-helpers.ts";

// Generous: these tests use real sockets and must pass on a loaded 2-core machine.
setDefaultTimeout(60_000);

let tmp: ReturnType<typeof makeTempDir>;
const cleanups: (() => void)[] = [];
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  tmp.remove();
});

test("true for a live unix listener, and it leaves no connection open", async () => {
  const path = tmp.sock("live.sock");
  let opened = 0;
  let closed = 0;
  const server = Bun.listen({ unix: path, socket: { open: () => void opened++, close: () => void closed++, data() {} } });
  cleanups.push(() => server.stop(true));
  expect(await probe({ kind: "unix", path }, 5000)).toBe(true);
  await waitFor(() => opened === 1 && closed === 1, "the probe's connection to open and close");
});

test("false for a path with nothing there", async () => {
  expect(await probe({ kind: "unix", path: tmp.sock("none.sock") }, 5000)).toBe(false);
});

test("false for a regular file where a socket would be", async () => {
  const path = tmp.sock("file.sock");
  writeFileSync(path, "");
  expect(await probe({ kind: "unix", path }, 5000)).toBe(false);
});

test("true for a live TCP listener on 127.0.0.1, false once it is gone", async () => {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const address = { kind: "tcp" as const, host: "127.0.0.1", port: server.port };
  try {
    expect(await probe(address, 5000)).toBe(true);
  } finally {
    server.stop(true);
  }
  expect(await probe(address, 5000)).toBe(false);
});
