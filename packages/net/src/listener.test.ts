import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, linkSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import type { Socket } from "bun";
import { encodeFrame, FrameReader, HEADER_BYTES, type Message, type Request } from "@switchyard/wire";
import type { Address } from "./address.ts";
import type { Connection } from "./connection.ts";
import { NetError, RequestError } from "./errors.ts";
import { type Listener, type ListenerOptions, listen } from "./listener.ts";
import { Peer, type PeerOptions } from "./peer.ts";
import { probe } from "./probe.ts";
import { deferred, type RawClient, rawClient, rejectionOf, useSocketSandbox, waitFor, within } from "./_test-helpers.ts";

// Generous: these tests use real sockets and must pass on a loaded 2-core machine.
setDefaultTimeout(60_000);

const sandbox = useSocketSandbox("srv.sock");
const { cleanups, unix } = sandbox;

async function startListener(options: Partial<ListenerOptions> = {}): Promise<Listener> {
  const listener = await listen({
    address: options.address ?? unix(),
    role: "Server",
    id: 2,
    handle: (request) => request.body,
    ...options,
  });
  cleanups.push(() => listener.close());
  return listener;
}

function startPeer(address: Address, options: Partial<PeerOptions> = {}): Peer {
  const peer = new Peer({ address, role: "Load Balancer", id: 0, timeoutMs: 10_000, ...options });
  cleanups.push(() => peer.close());
  return peer;
}

async function openPeer(address: Address, options: Partial<PeerOptions> = {}): Promise<Peer> {
  const open = deferred();
  const peer = startPeer(address, {
    ...options,
    onStateChange(state, reason) {
      options.onStateChange?.(state, reason);
      if (state === "open") open.resolve();
    },
  });
  await within(open.promise, "the peer to open");
  return peer;
}

async function connectRaw(address: Address): Promise<RawClient> {
  if (address.kind !== "unix") throw new Error("raw clients in these tests use unix sockets");
  const client = await rawClient(address.path);
  cleanups.push(() => client.close());
  return client;
}

const hello = (v = 1): Message => ({ t: "hello", v, role: "Test", id: 9 });

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** A frame whose body is not MessagePack (a map cut short): non-fatal bad_frame. */
function badFrame(): Uint8Array {
  const frame = new Uint8Array(HEADER_BYTES + 2);
  frame.set([0, 0, 0, 2, 0x82, 0xa1]);
  return frame;
}

describe("listen", () => {
  test("answers a request over a unix socket, and the handler sees the client's hello", async () => {
    const seen: { request: Request; remote: unknown }[] = [];
    const hellos: unknown[] = [];
    const listener = await startListener({
      handle(request, conn) {
        seen.push({ request, remote: conn.remote });
        return { root: Math.sqrt(request.body as number) };
      },
      onHello: (remote) => hellos.push(remote),
    });
    const peer = await openPeer(listener.address);
    expect(await peer.request("sqrt", 16)).toEqual({ root: 4 });
    expect(seen.length).toBe(1);
    expect(seen[0]!.request).toMatchObject({ t: "req", op: "sqrt", body: 16 });
    expect(seen[0]!.remote).toEqual({ t: "hello", v: 1, role: "Load Balancer", id: 0 });
    expect(hellos).toEqual([{ t: "hello", v: 1, role: "Load Balancer", id: 0 }]);
    expect(listener.connections.size).toBe(1);
    const [conn] = [...listener.connections];
    expect(conn!.remote?.role).toBe("Load Balancer");
  });

  test("the socket file is private to its owner (mode 0600)", async () => {
    const listener = await startListener();
    if (listener.address.kind !== "unix") throw new Error("unreachable");
    expect(statSync(listener.address.path).mode & 0o777).toBe(0o600);
  });

  test("answers over TCP on 127.0.0.1, reporting the port the kernel chose for port 0", async () => {
    const listener = await startListener({ address: { kind: "tcp", host: "127.0.0.1", port: 0 }, handle: (r) => `tcp:${r.body}` });
    if (listener.address.kind !== "tcp") throw new Error("unreachable");
    expect(listener.address.port).toBeGreaterThan(0);
    expect(listener.address.host).toBe("127.0.0.1");
    const peer = await openPeer(listener.address);
    expect(await peer.request("echo", "hi")).toBe("tcp:hi");
  });

  test("a TCP port that is taken gives NetError address_in_use", async () => {
    const first = await startListener({ address: { kind: "tcp", host: "127.0.0.1", port: 0 } });
    const error = await rejectionOf(startListener({ address: first.address }));
    expect(error).toBeInstanceOf(NetError);
    expect((error as NetError).code).toBe("address_in_use");
  });

  test("a second listen() on a path where a live listener is gives address_in_use, and the first keeps serving", async () => {
    const first = await startListener({ handle: () => "first" });
    const error = await rejectionOf(startListener({ address: first.address }));
    expect(error).toBeInstanceOf(NetError);
    expect((error as NetError).code).toBe("address_in_use");
    const peer = await openPeer(first.address);
    expect(await peer.request("who", null)).toBe("first");
  });

  test("a stale socket file (no process behind it) is replaced", async () => {
    const address = unix();
    if (address.kind !== "unix") throw new Error("unreachable");
    // A socket file whose listener is gone without cleaning up, as after a crash.
    const dead = Bun.listen({ unix: address.path, socket: { data() {} } });
    const staleCopy = sandbox.tmp.sock("stale.sock");
    // Bun removes the file on stop, so keep a hard link to it as the "left behind" socket file.
    linkSync(address.path, staleCopy);
    dead.stop(true);
    renameSync(staleCopy, address.path);
    expect(statSync(address.path).isSocket()).toBe(true);
    expect(await probe(address, 2000)).toBe(false);

    const listener = await startListener({ address, handle: () => "fresh" });
    const peer = await openPeer(listener.address);
    expect(await peer.request("who", null)).toBe("fresh");
  });

  test("a path that holds a regular file is refused, and the file is left alone", async () => {
    const path = sandbox.tmp.sock("notes.txt");
    writeFileSync(path, "precious");
    const error = await rejectionOf(startListener({ address: { kind: "unix", path } }));
    expect(error).toBeInstanceOf(NetError);
    expect((error as NetError).code).toBe("address_in_use");
    expect((error as NetError).message).toContain("not a socket");
    expect(readFileSync(path, "utf8")).toBe("precious");
  });

  test("close() removes the socket file and stops accepting", async () => {
    const listener = await startListener();
    if (listener.address.kind !== "unix") throw new Error("unreachable");
    listener.close();
    expect(existsSync(listener.address.path)).toBe(false);
    expect(await probe(listener.address, 2000)).toBe(false);
  });

  test("after goAway a successor can listen on the same path, and closing the old listener leaves the successor reachable", async () => {
    const old = await startListener({ handle: () => "old" });
    old.goAway("replaced");
    const successor = await startListener({ handle: () => "new" });
    old.close();
    expect(await probe(successor.address, 2000)).toBe(true);
    const peer = await openPeer(successor.address);
    expect(await peer.request("who", null)).toBe("new");
  });
});

describe("listen: requests", () => {
  test("a handler that throws RequestError answers with that code; the peer rejects with NetError remote", async () => {
    const listener = await startListener({
      handle() {
        throw new RequestError("bad_request", "value must be a non-negative number");
      },
    });
    const peer = await openPeer(listener.address);
    const error = await rejectionOf(peer.request("sqrt", -1));
    expect(error).toBeInstanceOf(NetError);
    expect(error).toMatchObject({ code: "remote", remoteCode: "bad_request", message: "value must be a non-negative number" });
    expect((error as NetError).retryable).toBe(false);
    expect(listener.stats()).toEqual({ inflight: 0, total: 1, errors: 1 });
  });

  test("an async handler that rejects with RequestError is answered the same way", async () => {
    const listener = await startListener({
      handle: async () => {
        await Promise.resolve();
        throw new RequestError("rate_limited", "slow down");
      },
    });
    const peer = await openPeer(listener.address);
    expect(await rejectionOf(peer.request("sqrt", 1))).toMatchObject({ code: "remote", remoteCode: "rate_limited" });
  });

  test("a handler that throws a plain Error answers 'internal' and reports the problem", async () => {
    const problems: string[] = [];
    const listener = await startListener({
      handle() {
        throw new Error("disk on fire");
      },
      onProblem: (text) => problems.push(text),
    });
    const peer = await openPeer(listener.address);
    const error = await rejectionOf(peer.request("sqrt", 1));
    expect(error).toMatchObject({ code: "remote", remoteCode: "internal", message: "disk on fire" });
    expect(problems).toEqual(["request sqrt failed: disk on fire"]);
  });

  test("a handler that fails with a NetError from its own upstream passes on the remote code, so retryability survives the hop", async () => {
    const listener = await startListener({
      handle() {
        throw new NetError("remote", "upstream is shutting down", "shutting_down");
      },
    });
    const peer = await openPeer(listener.address);
    const error = await rejectionOf(peer.request("sqrt", 1));
    expect(error).toMatchObject({ code: "remote", remoteCode: "shutting_down" });
    expect((error as NetError).retryable).toBe(true);
  });

  test("a sync handler whose answer MessagePack cannot carry gets an 'internal' error, and the statistics stay right", async () => {
    const problems: string[] = [];
    const listener = await startListener({
      handle(request) {
        if (request.op !== "cyclic") return "fine";
        const cyclic: Record<string, unknown> = {};
        cyclic.self = cyclic;
        return cyclic;
      },
      onProblem: (p) => problems.push(p),
    });
    const peer = await openPeer(listener.address);
    expect(await rejectionOf(peer.request("cyclic", null))).toMatchObject({ code: "remote", remoteCode: "internal" });
    expect(listener.stats()).toEqual({ inflight: 0, total: 1, errors: 1 });
    expect(problems.length).toBe(1);
    expect(await peer.request("next", null)).toBe("fine");
    expect(await listener.drained(1000)).toBe(true);
  });

  test("an async handler whose answer MessagePack cannot carry gets an 'internal' error instead of crashing the process", async () => {
    const listener = await startListener({ handle: async (request) => (request.op === "huge" ? 2n ** 70n : "fine") });
    const peer = await openPeer(listener.address);
    expect(await rejectionOf(peer.request("huge", null))).toMatchObject({ code: "remote", remoteCode: "internal" });
    expect(await peer.request("next", null)).toBe("fine");
    expect(listener.stats()).toEqual({ inflight: 0, total: 2, errors: 1 });
  });

  test("ping answers with the listener's load statistics", async () => {
    const gate = deferred<string>();
    const listener = await startListener({ handle: (r) => (r.op === "slow" ? gate.promise : "ok") });
    const peer = await openPeer(listener.address);
    await peer.request("fast", null);
    const slow = peer.request("slow", null);
    await waitFor(() => listener.stats().inflight === 1, "the slow request to reach the handler");
    expect(await peer.ping()).toEqual({ inflight: 1, total: 2, errors: 0 });
    gate.resolve("done");
    expect(await slow).toBe("done");
    expect(await peer.ping()).toEqual({ inflight: 0, total: 2, errors: 0 });
  });

  test("control messages reach onControl with their connection", async () => {
    const got = deferred<{ kind: string; data: unknown; role: string | undefined }>();
    const listener = await startListener({
      onControl: (message, conn) => got.resolve({ kind: message.kind, data: message.data, role: conn.remote?.role }),
    });
    const peer = await openPeer(listener.address);
    peer.send({ t: "ctl", kind: "ready", data: { pid: 42 } });
    expect(await within(got.promise, "the control message")).toEqual({ kind: "ready", data: { pid: 42 }, role: "Load Balancer" });
  });
  test("a callback that throws closes that connection instead of leaving it half-open, and the listener keeps serving", async () => {
    const listener = await startListener({
      handle: () => "ok",
      onControl() {
        throw new Error("bug in a control handler");
      },
    });
    const states: string[] = [];
    const victim = await openPeer(listener.address, { onStateChange: (s) => states.push(s) });
    victim.send({ t: "ctl", kind: "boom" });
    const after = victim.request("x", null, 30_000);
    // The connection is closed at once: the request fails fast instead of waiting out its deadline.
    expect(await within(rejectionOf(after), "the request to fail", 20_000)).toMatchObject({ code: "connection_lost" });
    const other = await openPeer(listener.address);
    expect(await other.request("y", null)).toBe("ok");
  });
});

describe("listen: drain", () => {
  test("goAway makes the peer draining and unavailable while in-flight requests still complete", async () => {
    const gate = deferred<string>();
    const listener = await startListener({ handle: () => gate.promise });
    const states: string[] = [];
    const draining = deferred<string>();
    const peer = await openPeer(listener.address, {
      onStateChange(state, reason) {
        states.push(state);
        if (state === "draining") draining.resolve(reason);
      },
    });
    const inflight = peer.request("slow", null);
    await waitFor(() => listener.stats().inflight === 1, "the request to reach the handler");
    listener.goAway("shutting down");
    expect(await within(draining.promise, "the peer to see goaway")).toBe("shutting down");
    expect(peer.state).toBe("draining");
    expect(peer.available).toBe(false);
    expect(await rejectionOf(peer.request("new", null))).toMatchObject({ code: "unavailable" });
    // No new connections are accepted.
    expect(await probe(listener.address, 2000)).toBe(false);
    gate.resolve("finished");
    expect(await inflight).toBe("finished");
    // With nothing left in flight the peer leaves, so the listener knows no request of its is still on the way.
    await waitFor(() => listener.connections.size === 0, "the draining peer to close its connection");
    expect(states.slice(0, 2)).toEqual(["open", "draining"]);
    expect(await listener.drained(1000)).toBe(true);
  });

  test("drained() waits for a request a client sent before it read the goaway, and answers it", async () => {
    const listener = await startListener({ handle: (request) => request.body });
    const client = await connectRaw(listener.address);
    client.write(encodeFrame(hello()));
    await client.next("hello");
    listener.goAway("bye");
    // This client keeps its connection and writes a request after the goaway left the listener.
    client.write(encodeFrame({ t: "req", id: 7, op: "echo", body: "still answered" }));
    expect(await listener.drained(5000)).toBe(true);
    listener.close();
    const frames: Message[] = [];
    for (;;) {
      const frame = await client.next("the answer");
      frames.push(frame);
      if (frame.t === "res") break;
    }
    expect(frames.at(-1)).toMatchObject({ t: "res", id: 7, body: "still answered" });
  });

  test("a client that says hello after goAway is told to go away at once", async () => {
    const listener = await startListener();
    const client = await connectRaw(listener.address);
    listener.goAway("bye");
    client.write(encodeFrame(hello()));
    let frame = await client.next("hello");
    while (frame.t !== "hello") frame = await client.next("hello"); // the broadcast goaway may come first
    expect(frame).toMatchObject({ t: "hello", role: "Server", id: 2 });
    expect(await client.next("goaway after hello")).toEqual({ t: "goaway", reason: "shutting down" });
  });

  test("drained() resolves true at once when idle, and when the last in-flight request finishes", async () => {
    const gate = deferred<string>();
    const listener = await startListener({ handle: () => gate.promise });
    expect(await listener.drained(10)).toBe(true);
    const peer = await openPeer(listener.address);
    const a = peer.request("slow", null);
    const b = peer.request("slow", null);
    await waitFor(() => listener.stats().inflight === 2, "both requests to reach the handler");
    let settled = false;
    const drained = listener.drained(30_000).then((value) => {
      settled = true;
      return value;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    gate.resolve("ok");
    expect(await within(drained, "drained()")).toBe(true);
    expect(await Promise.all([a, b])).toEqual(["ok", "ok"]);
  });

  test("drained() resolves false when its timeout passes first", async () => {
    const never = new Promise<never>(() => {});
    const listener = await startListener({ handle: () => never });
    const peer = await openPeer(listener.address);
    void peer.request("stuck", null).catch(() => {});
    await waitFor(() => listener.stats().inflight === 1, "the request to reach the handler");
    expect(await listener.drained(50)).toBe(false);
  });

  test("closing the listener fails in-flight requests with connection_lost", async () => {
    const never = new Promise<never>(() => {});
    const listener = await startListener({ handle: () => never });
    const peer = await openPeer(listener.address);
    const pending = [peer.request("stuck", 1), peer.request("stuck", 2)];
    await waitFor(() => listener.stats().inflight === 2, "the requests to reach the handler");
    listener.close();
    for (const request of pending) {
      const error = await within(rejectionOf(request), "the request to fail");
      expect(error).toBeInstanceOf(NetError);
      expect((error as NetError).code).toBe("connection_lost");
      expect((error as NetError).retryable).toBe(true);
    }
  });
});

describe("listen: bad clients", () => {
  test("garbage bytes get an error frame and that connection is closed, while other clients are still served", async () => {
    const problems: string[] = [];
    const listener = await startListener({ handle: () => "still here", onProblem: (p) => problems.push(p) });
    const good = await openPeer(listener.address);
    const bad = await connectRaw(listener.address);
    bad.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    const err = await bad.next("an error frame");
    expect(err).toMatchObject({ t: "err", id: 0, code: "frame_too_large" });
    await within(bad.closed, "the bad connection to close");
    expect(await good.request("x", null)).toBe("still here");
    expect(problems.some((p) => p.includes("frame_too_large") && p.includes("connection closed"))).toBe(true);
  });

  test("a frame of maxFrame+1 closes only that connection", async () => {
    const listener = await startListener({ maxFrame: 1000, handle: () => "ok" });
    const good = await openPeer(listener.address, { maxFrame: 1000 });
    const bad = await connectRaw(listener.address);
    bad.write(encodeFrame(hello()));
    expect(await bad.next("hello")).toMatchObject({ t: "hello" });
    const head = new Uint8Array([0, 0, 0x03, 0xe9]); // 1001
    bad.write(head);
    expect(await bad.next("an error frame")).toMatchObject({ t: "err", id: 0, code: "frame_too_large" });
    await within(bad.closed, "the oversized connection to close");
    expect(good.state).toBe("open");
    expect(await good.request("x", null)).toBe("ok");
    await waitFor(() => listener.connections.size === 1, "the listener to forget the closed connection");
  });

  test("a client that sends a request before hello is refused with hello_required and closed", async () => {
    let handled = 0;
    const listener = await startListener({ handle: () => ++handled });
    const good = await openPeer(listener.address);
    const client = await connectRaw(listener.address);
    client.write(encodeFrame({ t: "req", id: 1, op: "sqrt", body: 4 }));
    expect(await client.next("an error frame")).toMatchObject({ t: "err", id: 0, code: "hello_required" });
    await within(client.closed, "the connection to close");
    expect(handled).toBe(0);
    expect(await good.request("x", null)).toBe(1);
  });

  test("a client with another protocol version is refused with a clear error and closed", async () => {
    const problems: string[] = [];
    const listener = await startListener({ handle: () => "served", onProblem: (p) => problems.push(p) });
    const good = await openPeer(listener.address);
    const client = await connectRaw(listener.address);
    client.write(encodeFrame(hello(2)));
    const err = await client.next("an error frame");
    expect(err).toEqual({ t: "err", id: 0, code: "version", message: "protocol version 2 is not supported (this side speaks 1)" });
    await within(client.closed, "the connection to close");
    expect(problems).toEqual(["protocol version 2 is not supported (this side speaks 1)"]);
    expect(await good.request("x", null)).toBe("served");
  });

  test("a bad message gets an error frame with its request id, and the connection keeps working", async () => {
    const listener = await startListener({ handle: (r) => r.body });
    const client = await connectRaw(listener.address);
    client.write(encodeFrame(hello()));
    expect(await client.next("hello")).toMatchObject({ t: "hello" });
    // op is missing: valid MessagePack, not a valid request.
    client.write(encodeFrame({ t: "req", id: 5, body: 1 } as unknown as Message));
    client.write(encodeFrame({ t: "req", id: 6, op: "echo", body: "fine" }));
    expect(await client.next("the error")).toMatchObject({ t: "err", id: 5, code: "bad_message" });
    expect(await client.next("the answer")).toEqual({ t: "res", id: 6, body: "fine" });
    expect(client.isClosed()).toBe(false);
  });

  test("bytes that are not MessagePack get bad_frame and the connection keeps working", async () => {
    const listener = await startListener({ handle: (r) => r.body });
    const client = await connectRaw(listener.address);
    client.write(encodeFrame(hello()));
    await client.next("hello");
    client.write(new Uint8Array([0, 0, 0, 2, 0x82, 0xa1]));
    client.write(encodeFrame({ t: "req", id: 7, op: "echo", body: 7 }));
    expect(await client.next("the error")).toMatchObject({ t: "err", id: 0, code: "bad_frame" });
    expect(await client.next("the answer")).toEqual({ t: "res", id: 7, body: 7 });
  });

  test("2000 frames before hello in one write are refused once: one error frame, one report, and the connection closes", async () => {
    const problems: string[] = [];
    let handled = 0;
    const listener = await startListener({ handle: () => ++handled, onProblem: (p) => problems.push(p) });
    const client = await connectRaw(listener.address);
    client.write(concat(Array.from({ length: 2000 }, (_, i) => encodeFrame({ t: "ping", id: i + 1 }))));
    await within(client.closed, "the refused connection to close");
    expect(client.messages).toEqual([{ t: "err", id: 0, code: "hello_required", message: 'first frame was "ping", expected "hello"' }]);
    expect(problems).toEqual(['first frame was "ping", expected "hello"']);
    expect(handled).toBe(0);
  });

  test("requests pipelined behind a refused hello are never run", async () => {
    let handled = 0;
    const problems: string[] = [];
    const listener = await startListener({ handle: () => ++handled, onProblem: (p) => problems.push(p) });
    const client = await connectRaw(listener.address);
    const requests = Array.from({ length: 100 }, (_, i) => encodeFrame({ t: "req", id: i + 1, op: "count", body: null }));
    client.write(concat([encodeFrame(hello(2)), ...requests]));
    await within(client.closed, "the refused connection to close");
    expect(client.messages.map((m) => m.t === "err" && m.code)).toEqual(["version"]);
    expect(handled).toBe(0);
    expect(listener.stats().total).toBe(0);
    expect(problems).toEqual(["protocol version 2 is not supported (this side speaks 1)"]);
  });

  test("bad frames are answered one by one, only the first few are reported, and the 8th closes the connection with too_many_errors", async () => {
    const problems: string[] = [];
    const listener = await startListener({ handle: (r) => r.body, onProblem: (p) => problems.push(p) });
    const client = await connectRaw(listener.address);
    client.write(encodeFrame(hello()));
    expect(await client.next("hello")).toMatchObject({ t: "hello" });
    // Seven bad frames, one at a time: each is answered and the connection keeps working.
    for (let i = 0; i < 7; i++) {
      client.write(badFrame());
      expect(await client.next("an error frame")).toMatchObject({ t: "err", id: 0, code: "bad_frame" });
    }
    client.write(encodeFrame({ t: "req", id: 1, op: "echo", body: "still served" }));
    expect(await client.next("the answer")).toEqual({ t: "res", id: 1, body: "still served" });
    // Then 5000 more in one write: the 8th bad frame is the last one looked at.
    client.write(concat(Array.from({ length: 5000 }, badFrame)));
    expect(await client.next("the 8th error frame")).toMatchObject({ t: "err", id: 0, code: "bad_frame" });
    expect(await client.next("the final error frame")).toEqual({
      t: "err",
      id: 0,
      code: "too_many_errors",
      message: "8 bad frames on one connection; closing it",
    });
    await within(client.closed, "the connection to close");
    expect(client.messages.length).toBe(1 + 8 + 1 + 1); // hello, 8 errors, 1 answer, too_many_errors
    expect(problems.length).toBe(4);
    expect(problems.slice(0, 3).every((p) => p.startsWith("bad frame from a client (bad_frame: "))).toBe(true);
    expect(problems[3]).toBe("8 bad frames on one connection; closing it");
    const peer = await openPeer(listener.address);
    expect(await peer.request("echo", "others are fine")).toBe("others are fine");
  });

  test("a client that disconnects mid-request does not break the listener", async () => {
    const gate = deferred<string>();
    const closedConns: Connection[] = [];
    const listener = await startListener({ handle: (r) => (r.op === "slow" ? gate.promise : "ok"), onClose: (c) => closedConns.push(c) });
    const client = await connectRaw(listener.address);
    client.write(encodeFrame(hello()));
    await client.next("hello");
    client.write(encodeFrame({ t: "req", id: 1, op: "slow", body: null }));
    await waitFor(() => listener.stats().inflight === 1, "the request to reach the handler");
    client.close();
    await waitFor(() => closedConns.length === 1, "the listener to see the close");
    gate.resolve("late"); // answering a closed connection must be harmless
    expect(await listener.drained(10_000)).toBe(true);
    const peer = await openPeer(listener.address);
    expect(await peer.request("fast", null)).toBe("ok");
    expect(listener.connections.size).toBe(1);
  });
});

/**
 * A client that sends everything it is given (continuing on drain) but reads nothing until
 * `startReading()`: the kind of client that makes a server buffer every answer.
 */
async function nonReadingClient(address: Address) {
  if (address.kind !== "unix") throw new Error("raw clients in these tests use unix sockets");
  const messages: Message[] = [];
  let wake: (() => void) | null = null;
  let pending: Uint8Array = new Uint8Array(0);
  const reader = new FrameReader({
    onMessage(message) {
      messages.push(message);
      wake?.();
    },
    onError(error) {
      throw error;
    },
  });
  const socket = await Bun.connect({
    unix: address.path,
    socket: {
      data(_socket: Socket<undefined>, chunk: Uint8Array) {
        reader.push(chunk);
      },
      drain(s: Socket<undefined>) {
        if (pending.length > 0) pending = pending.subarray(Math.max(0, s.write(pending)));
      },
      close() {
        wake?.();
      },
      error() {},
    },
  });
  socket.pause();
  cleanups.push(() => socket.terminate());
  return {
    messages,
    /** Bytes handed to `write` that the kernel has not taken yet. */
    unsent: () => pending.length,
    write(bytes: Uint8Array) {
      const taken = socket.write(bytes);
      pending = bytes.subarray(Math.max(0, taken));
    },
    startReading() {
      socket.resume();
    },
    /** Resolves once `count` messages arrived. */
    async received(count: number) {
      while (messages.length < count) {
        const d = deferred();
        wake = d.resolve;
        await within(d.promise, `message ${messages.length + 1} of ${count}`, 30_000);
      }
    },
  };
}

describe("listen: read backpressure", () => {
  test("a client that pipelines without reading stops being read; the answer backlog stays bounded and every answer arrives in order once it reads", async () => {
    const N = 1000;
    const answer = "a".repeat(16 * 1024); // 16 MiB of answers in all, without backpressure
    let maxBacklog = 0;
    let serverConn: Connection | null = null;
    const listener = await startListener({
      handle(request, conn) {
        serverConn = conn;
        maxBacklog = Math.max(maxBacklog, conn.writer.backlog);
        return { id: request.id, answer };
      },
    });
    const client = await nonReadingClient(listener.address);
    const padding = "p".repeat(4 * 1024);
    client.write(concat([encodeFrame(hello()), ...Array.from({ length: N }, (_, i) => encodeFrame({ t: "req", id: i + 1, op: "echo", body: padding }))]));

    await waitFor(() => serverConn?.readsPaused === true, "the listener to stop reading the client");
    const handledWhilePaused = listener.stats().total;
    expect(handledWhilePaused).toBeLessThan(N);
    expect(client.unsent()).toBeGreaterThan(0); // the client's requests back up on its side, not in the listener

    client.startReading();
    await client.received(N + 1);
    const [first, ...answers] = client.messages;
    expect(first).toMatchObject({ t: "hello" });
    expect(answers.map((m) => (m.t === "res" ? (m.body as { id: number }).id : `${m.t}`))).toEqual(Array.from({ length: N }, (_, i) => i + 1));
    expect(answers.every((m) => m.t === "res" && m.id === (m.body as { id: number }).id && (m.body as { answer: string }).answer === answer)).toBe(true);
    expect(listener.stats()).toEqual({ inflight: 0, total: N, errors: 0 });
    // Paused above 1 MiB; one read chunk of requests may add its answers on top before the pause.
    expect(maxBacklog).toBeLessThan(6 * 1024 * 1024);
    expect(serverConn!.readsPaused).toBe(false);
  });
});
