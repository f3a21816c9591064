import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "@switchyard/log";
import { NetError, Peer, RequestError } from "@switchyard/net";
import type { Control } from "@switchyard/wire";
import { type ControlSocket, listenForChildren } from "./control.ts";
import type { RouterId } from "./fleet.ts";

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 5000;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** A control socket in a temp directory whose fleet requests are answered by `handle`. */
async function controlSocket(handle: (op: string, body: unknown) => unknown = () => ({})) {
  const dir = mkdtempSync(join(tmpdir(), "sy-wd-"));
  const ready: Array<[string, number, Record<string, unknown>]> = [];
  const connected: RouterId[] = [];
  const control: ControlSocket = await listenForChildren({
    address: { kind: "unix", path: join(dir, "watchdog.sock") },
    log: createLogger({ role: "Watchdog", level: "silent" }),
    childFor: (role, id) => ({ markReady: (pid, data) => ready.push([`${role}:${id}`, pid, data]) }),
    handle,
    onRouter: (router) => connected.push(router),
  });
  cleanups.push(() => {
    control.close();
    rmSync(dir, { recursive: true, force: true });
  });
  /** A child connected as `role` #id, recording the control frames it gets. */
  const child = (role: string, id: number) => {
    const received: Control[] = [];
    const peer = new Peer({ address: control.listener.address, role, id, reconnect: false, onControl: (message) => received.push(message) });
    cleanups.push(() => peer.close());
    return { peer, received };
  };
  return { control, ready, connected, child };
}

test("upstream news reaches only the router it is for, as a ctl `upstreams` frame", async () => {
  const { control, connected, child } = await controlSocket();
  const proxy1 = child("reverse_proxy", 1);
  const proxy2 = child("reverse_proxy", 2);
  const server = child("server", 1);
  await until(() => connected.length === 2 && server.peer.state === "open", "the children to connect");
  expect(connected).toEqual(expect.arrayContaining([{ role: "reverse_proxy", id: 1 }, { role: "reverse_proxy", id: 2 }]));

  expect(control.tell({ role: "reverse_proxy", id: 2 }, { add: [{ n: 7, address: "unix:/run/sy/server-7.sock" }] })).toBe(true);
  await until(() => proxy2.received.length === 1, "the news");
  expect(proxy2.received).toEqual([{ t: "ctl", kind: "upstreams", data: { add: [{ n: 7, address: "unix:/run/sy/server-7.sock" }] } }]);
  expect(control.tell({ role: "load_balancer", id: 0 }, { remove: [3] })).toBe(false); // not connected
  await Bun.sleep(20);
  expect([proxy1.received, server.received]).toEqual([[], []]);
});

test("a child's ready report is handed to its supervisor with its pid and data", async () => {
  const { ready, child } = await controlSocket();
  const server = child("server", 4);
  server.peer.send({ t: "ctl", kind: "ready", data: { pid: 4242, listen: "unix:/x.sock" } });
  await until(() => ready.length === 1, "the ready report");
  expect(ready).toEqual([["server:4", 4242, { pid: 4242, listen: "unix:/x.sock" }]]);
});

test("fleet requests are answered by the handler; its RequestError is the error frame", async () => {
  const { child } = await controlSocket((op, body) => {
    if (op === "fleet.rep") return { replicas: [{ name: "Server 1" }] };
    throw new RequestError("bad_request", `<Error> ${JSON.stringify(body)}`);
  });
  const lb = child("load_balancer", 0);
  expect(await lb.peer.request("fleet.rep", {})).toEqual({ replicas: [{ name: "Server 1" }] });
  const refused = await lb.peer.request("fleet.add", { n: 0 }).catch((error: unknown) => error);
  expect(refused).toBeInstanceOf(NetError);
  expect([(refused as NetError).remoteCode, (refused as NetError).message]).toEqual(["bad_request", '<Error> {"n":0}']);
});
