import { afterEach, beforeEach, expect, setDefaultTimeout, test } from "bun:test";
import { encodeFrame, type Message } from "@switchyard/wire";
import type { Connection } from "./connection.ts";
import { dial } from "./dial.ts";
import { NetError } from "./errors.ts";
import { deferred, makeTempDir, rejectionOf, within } from "./_test-helpers.ts";

// Generous: these tests use real sockets and must pass on a loaded 2-core machine.
setDefaultTimeout(60_000);

let tmp: ReturnType<typeof makeTempDir>;
const cleanups: (() => void)[] = [];
beforeEach(() => {
  tmp = makeTempDir();
});
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  tmp.remove();
});

const quietEvents = { onMessage() {}, onClose() {} };

test("opens a connection that exchanges frames both ways", async () => {
  const path = tmp.sock("echo.sock");
  const server = Bun.listen({
    unix: path,
    socket: {
      data(socket, chunk) {
        socket.write(chunk); // echo frames back as they came
      },
    },
  });
  cleanups.push(() => server.stop(true));
  const got = deferred<Message>();
  const conn = await dial({ kind: "unix", path }, { onMessage: (_c, m) => got.resolve(m), onClose() {} }, 5000);
  cleanups.push(() => conn.destroy());
  conn.send({ t: "ping", id: 4 });
  expect(await within(got.promise, "the echoed frame")).toEqual({ t: "ping", id: 4 });
});

test("a missing socket file rejects with unavailable: no such socket", async () => {
  const path = tmp.sock("none.sock");
  const error = await rejectionOf(dial({ kind: "unix", path }, quietEvents, 5000));
  expect(error).toBeInstanceOf(NetError);
  expect((error as NetError).code).toBe("unavailable");
  expect((error as NetError).message).toBe(`unix:${path}: no such socket`);
});

test("a closed TCP port rejects with unavailable: connection refused", async () => {
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = server.port;
  server.stop(true);
  const error = await rejectionOf(dial({ kind: "tcp", host: "127.0.0.1", port }, quietEvents, 5000));
  expect(error).toMatchObject({ code: "unavailable", message: `tcp://127.0.0.1:${port}: connection refused` });
});

test("the connection reports its close once, with a reason", async () => {
  const path = tmp.sock("closer.sock");
  const server = Bun.listen({
    unix: path,
    socket: {
      open(socket) {
        socket.write(encodeFrame({ t: "goaway", reason: "bye" }));
        socket.end();
      },
      data() {},
    },
  });
  cleanups.push(() => server.stop(true));
  const reasons: string[] = [];
  const closed = deferred();
  const messages: Message[] = [];
  const conn = await dial(
    { kind: "unix", path },
    {
      onMessage: (_c: Connection, m: Message) => messages.push(m),
      onClose: (_c: Connection, reason: string) => {
        reasons.push(reason);
        closed.resolve();
      },
    },
    5000,
  );
  await within(closed.promise, "the close");
  conn.destroy(); // after close: a no-op, and no second report
  expect(conn.closed).toBe(true);
  expect(reasons).toEqual(["closed by peer"]);
  expect(messages).toEqual([{ t: "goaway", reason: "bye" }]);
});
