import { describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Socket } from "bun";
import { encodeFrame, FrameReader, type Message } from "@switchyard/wire";
import type { Address } from "./address.ts";
import { NetError } from "./errors.ts";
import { type Listener, type ListenerOptions, listen } from "./listener.ts";
import { Peer, type PeerOptions, type PeerState } from "./peer.ts";
import { deferred, rejectionOf, seededRandom, useSocketSandbox, waitFor, within } from "./_test-helpers.ts";

// Generous: these tests use real sockets and must pass on a loaded 2-core machine.
setDefaultTimeout(60_000);

const sandbox = useSocketSandbox("up.sock");
const { cleanups, unix } = sandbox;

async function startListener(options: Partial<ListenerOptions> = {}): Promise<Listener> {
  const listener = await listen({ address: unix(), role: "Server", id: 1, handle: (r) => r.body, ...options });
  cleanups.push(() => listener.close());
  return listener;
}

/** A peer whose state changes are recorded, with a way to await the next occurrence of a state. */
function startPeer(address: Address, options: Partial<PeerOptions> = {}) {
  const states: [PeerState, string][] = [];
  const waiters: { state: PeerState; resolve(): void }[] = [];
  const peer = new Peer({
    address,
    role: "Reverse Proxy #1",
    id: 1,
    timeoutMs: 10_000,
    backoff: { initialMs: 5, maxMs: 50 },
    ...options,
    onStateChange(state, reason) {
      states.push([state, reason]);
      for (const w of waiters.splice(0)) {
        if (w.state === state) w.resolve();
        else waiters.push(w);
      }
    },
  });
  cleanups.push(() => peer.close());
  const reached = (state: PeerState) => {
    const d = deferred();
    waiters.push({ state, resolve: d.resolve });
    return within(d.promise, `the peer to report "${state}"`, 20_000);
  };
  return { peer, states, reached };
}

describe("Peer: requests", () => {
  test("requests made while still connecting are sent once the connection opens", async () => {
    const listener = await startListener({ handle: (r) => (r.body as number) * 2 });
    const { peer, reached } = startPeer(listener.address);
    expect(peer.state).toBe("connecting");
    const answers = Promise.all([peer.request("double", 1), peer.request("double", 2)]);
    await reached("open");
    expect(await answers).toEqual([2, 4]);
    expect(peer.available).toBe(true);
    expect(peer.inflight).toBe(0);
  });

  test("1000 pipelined requests on one connection, answered out of order, are all matched by id", async () => {
    const random = seededRandom(1234);
    const finishOrder: number[] = [];
    const listener = await startListener({
      handle: (request) =>
        new Promise((resolve) => {
          const n = request.body as number;
          setTimeout(() => {
            finishOrder.push(n);
            resolve({ n, square: n * n });
          }, Math.floor(random() * 15));
        }),
    });
    const { peer, reached } = startPeer(listener.address);
    await reached("open");
    const requests = Array.from({ length: 1000 }, (_, n) => peer.request("square", n));
    expect(peer.inflight).toBe(1000);
    const answers = await within(Promise.all(requests), "1000 answers", 30_000);
    expect(answers).toEqual(Array.from({ length: 1000 }, (_, n) => ({ n, square: n * n })));
    // The answers really came back out of order, so matching by id was exercised.
    expect(finishOrder).not.toEqual([...finishOrder].sort((a, b) => a - b));
    expect(listener.connections.size).toBe(1);
    expect(listener.stats()).toEqual({ inflight: 0, total: 1000, errors: 0 });
    expect(peer.inflight).toBe(0);
  });

  test("a handler that never answers makes request() reject with timeout after its deadline", async () => {
    const listener = await startListener({ handle: () => new Promise(() => {}) });
    const { peer, reached } = startPeer(listener.address);
    await reached("open");
    const started = performance.now();
    const error = await within(rejectionOf(peer.request("stuck", null, 100)), "the timeout");
    expect(performance.now() - started).toBeGreaterThanOrEqual(95);
    expect(error).toBeInstanceOf(NetError);
    expect((error as NetError).code).toBe("timeout");
    expect((error as NetError).retryable).toBe(true);
    expect(peer.inflight).toBe(0);
    // The connection is still usable: a timeout is about one request, not the connection.
    expect(peer.state).toBe("open");
  });

  test("the request's deadline travels to the upstream as ttl", async () => {
    const ttls: unknown[] = [];
    const listener = await startListener({ handle: (r) => ttls.push(r.ttl) });
    const { peer, reached } = startPeer(listener.address, { timeoutMs: 3000 });
    await reached("open");
    await peer.request("a", null);
    await peer.request("b", null, 750);
    expect(ttls).toEqual([3000, 750]);
  });

  test("an answer that arrives after the deadline is dropped, and later requests are unaffected", async () => {
    const late = deferred<string>();
    const listener = await startListener({ handle: (r) => (r.op === "late" ? late.promise : "prompt") });
    const { peer, reached } = startPeer(listener.address);
    await reached("open");
    expect(await rejectionOf(peer.request("late", null, 50))).toMatchObject({ code: "timeout" });
    late.resolve("too late");
    expect(await peer.request("next", null)).toBe("prompt");
  });

  test("a request whose body MessagePack cannot carry is rejected at once, and the connection keeps working", async () => {
    const listener = await startListener();
    const { peer, reached } = startPeer(listener.address);
    await reached("open");
    const error = await within(rejectionOf(peer.request("x", 2n ** 70n)), "the rejection");
    expect(error).toBeInstanceOf(Error);
    expect(error).not.toBeInstanceOf(NetError); // a caller's bug, not a network failure: never retried elsewhere
    expect(peer.inflight).toBe(0);
    expect(await peer.request("y", "fine")).toBe("fine");
  });

  test("an unencodable request made while connecting is rejected without stalling the requests queued beside it", async () => {
    const listener = await startListener();
    const { peer, reached } = startPeer(listener.address);
    expect(peer.state).toBe("connecting");
    const before = peer.request("a", "first");
    const bad = rejectionOf(peer.request("b", Symbol("not MessagePack")));
    const after = peer.request("c", "third");
    expect(await within(bad, "the rejection")).toBeInstanceOf(Error);
    await reached("open");
    expect(await Promise.all([before, after])).toEqual(["first", "third"]);
    expect(peer.state).toBe("open");
  });

  test("ping returns the upstream's load statistics", async () => {
    const listener = await startListener();
    const { peer, reached } = startPeer(listener.address);
    await reached("open");
    await peer.request("x", 1);
    expect(await peer.ping()).toEqual({ inflight: 0, total: 1, errors: 0 });
  });

  test("ping on a peer that is down is refused at once with unavailable", async () => {
    const { peer, reached } = startPeer(unix("nobody.sock"));
    await reached("down");
    const error = await rejectionOf(peer.ping());
    expect(error).toMatchObject({ code: "unavailable" });
  });

  test("control messages from the upstream reach onControl", async () => {
    const got = deferred<Message>();
    const listener = await startListener({ onHello: (_remote, conn) => conn.send({ t: "ctl", kind: "shutdown", data: { grace: 5 } }) });
    startPeer(listener.address, { onControl: (message) => got.resolve(message) });
    expect(await within(got.promise, "the control message")).toEqual({ t: "ctl", kind: "shutdown", data: { grace: 5 } });
  });
});

describe("Peer: connection state", () => {
  test("a peer with nothing to dial reports down once, and requests fail fast with unavailable", async () => {
    const { peer, states, reached } = startPeer(unix("nobody.sock"));
    const first = peer.request("x", null);
    await reached("down");
    expect(await rejectionOf(first)).toMatchObject({ code: "connection_lost" });
    expect(await rejectionOf(peer.request("y", null))).toMatchObject({ code: "unavailable", retryable: true });
    expect(states.map(([s]) => s)).toEqual(["down"]);
    expect(states[0]![1]).toBe("no such socket");
  });

  test("down is reported exactly once during repeated failed reconnects, then open when a listener appears on the same path", async () => {
    const listener = await startListener({ handle: (r) => (r.op === "stuck" ? new Promise(() => {}) : "first life") });
    let attempts = 0;
    let attemptsReached: (() => void) | null = null;
    const { peer, states, reached } = startPeer(listener.address, {
      // The backoff asks for one random number per reconnect delay: count reconnect attempts with it.
      backoff: {
        initialMs: 5,
        maxMs: 20,
        random: () => {
          attempts++;
          if (attempts >= 6) attemptsReached?.();
          return 0.5;
        },
      },
    });
    await reached("open");
    expect(await peer.request("x", null)).toBe("first life");

    const stuck = peer.request("stuck", null);
    const sixAttempts = new Promise<void>((resolve) => {
      attemptsReached = resolve;
    });
    await waitFor(() => listener.stats().inflight === 1, "the request to reach the handler");
    listener.close();
    expect(await within(rejectionOf(stuck), "the in-flight request to fail")).toMatchObject({ code: "connection_lost" });
    await within(sixAttempts, "several failed reconnect attempts", 20_000);
    expect(peer.state === "down" || peer.state === "connecting").toBe(true);
    expect(peer.available).toBe(false);
    expect(states.map(([s]) => s)).toEqual(["open", "down"]);

    // A new listener on the same path: the peer finds it on its own.
    const reopened = reached("open");
    await startListener({ handle: () => "second life" });
    await reopened;
    expect(states.map(([s]) => s)).toEqual(["open", "down", "open"]);
    expect(await peer.request("z", null)).toBe("second life");
  });

  test("with reconnect: false a lost connection is final", async () => {
    const listener = await startListener();
    const { peer, states, reached } = startPeer(listener.address, { reconnect: false });
    await reached("open");
    listener.close();
    await reached("closed");
    expect(states.map(([s]) => s)).toEqual(["open", "closed"]);
    expect(await rejectionOf(peer.request("x", null))).toMatchObject({ code: "unavailable" });
  });

  test("close() fails in-flight requests with closed, reports closed and never reconnects", async () => {
    let accepted = 0;
    const listener = await startListener({ handle: () => new Promise(() => {}), onHello: () => accepted++ });
    const { peer, states, reached } = startPeer(listener.address);
    await reached("open");
    await waitFor(() => accepted === 1, "the listener to see the hello");
    const pending = peer.request("stuck", null);
    peer.close();
    const error = await rejectionOf(pending);
    expect(error).toMatchObject({ code: "closed", retryable: false });
    expect(peer.state).toBe("closed");
    expect(await rejectionOf(peer.request("x", null))).toMatchObject({ code: "unavailable" });
    await waitFor(() => listener.connections.size === 0, "the listener to see the peer leave");
    expect(states.map(([s]) => s)).toEqual(["open", "closed"]);
    expect(accepted).toBe(1);
  });

  test("close() while the first dial is still in progress leaves no connection behind", async () => {
    const left = deferred();
    let hellos = 0;
    const listener = await startListener({ onClose: () => left.resolve(), onHello: () => hellos++ });
    const { peer, states } = startPeer(listener.address);
    peer.close();
    expect(peer.state).toBe("closed");
    // The dial still arrives; once it connects, the closed peer drops it without a word.
    await within(left.promise, "the dialled connection to be dropped");
    expect(listener.connections.size).toBe(0);
    expect(hellos).toBe(0);
    expect(states.map(([s]) => s)).toEqual(["closed"]);
  });

  test("an upstream that refuses the connection (error frame with id 0) is retried with one backoff step per refusal, one connection at a time", async () => {
    // A fake upstream that answers every hello with a connection-level error, as for a version mismatch.
    const path = sandbox.tmp.sock("refuser.sock");
    let refusals = 0;
    let open = 0;
    let maxOpen = 0;
    const server = Bun.listen<FrameReader>({
      unix: path,
      socket: {
        open(socket: Socket<FrameReader>) {
          open++;
          maxOpen = Math.max(maxOpen, open);
          socket.data = new FrameReader({
            onMessage(message) {
              if (message.t !== "hello") return;
              refusals++;
              socket.write(encodeFrame({ t: "err", id: 0, code: "version", message: "go away" }));
            },
            onError() {},
          });
        },
        data(socket, chunk) {
          socket.data.push(chunk);
        },
        close() {
          open--;
        },
      },
    });
    cleanups.push(() => server.stop(true));

    // The backoff draws one random number per retry delay: count the retries scheduled.
    let retries = 0;
    const enough = deferred();
    const { peer, states } = startPeer(
      { kind: "unix", path },
      {
        backoff: {
          initialMs: 10,
          maxMs: 10,
          random: () => {
            if (++retries === 8) enough.resolve();
            return 0.5;
          },
        },
      },
    );
    await within(enough.promise, "eight retries");
    const sent = refusals;
    peer.close();
    await waitFor(() => open === 0, "every refused connection to be closed");
    // Exactly one retry per refusal received (the last refusal sent may still have been on its way).
    expect(retries === sent || retries === sent - 1).toBe(true);
    expect(maxOpen).toBe(1);
    // Refused before its hello came back: never open, so "down" is reported once, not once per attempt.
    expect(states).toEqual([
      ["down", "refused: go away"],
      ["closed", "closed by owner"],
    ]);
  });
});

/**
 * A fake upstream that speaks the framing but lets the test decide what it answers: `onOpen` and
 * `onMessage` get a `send` for frames and the socket itself (to close it or hold it).
 */
function fakeUpstream(handlers: {
  onOpen?(socket: Socket<FrameReader>): void;
  onMessage?(message: Message, send: (message: Message) => void, socket: Socket<FrameReader>): void;
}) {
  const path = sandbox.tmp.sock("fake.sock");
  const stats = { accepted: 0, open: 0, maxOpen: 0, received: [] as Message[] };
  const closedAll: (() => void)[] = [];
  const server = Bun.listen<FrameReader>({
    unix: path,
    socket: {
      open(socket: Socket<FrameReader>) {
        stats.accepted++;
        stats.open++;
        stats.maxOpen = Math.max(stats.maxOpen, stats.open);
        socket.data = new FrameReader({
          onMessage(message) {
            stats.received.push(message);
            handlers.onMessage?.(message, (m) => socket.write(encodeFrame(m)), socket);
          },
          onError() {},
        });
        handlers.onOpen?.(socket);
      },
      data(socket, chunk) {
        socket.data.push(chunk);
      },
      close() {
        stats.open--;
        if (stats.open === 0) for (const wake of closedAll.splice(0)) wake();
      },
      error() {},
    },
  });
  cleanups.push(() => server.stop(true));
  /** Resolves once no connection to the fake is open. */
  const allClosed = () => {
    if (stats.open === 0) return Promise.resolve();
    const d = deferred();
    closedAll.push(d.resolve);
    return within(d.promise, "every connection to the fake upstream to close");
  };
  return { address: { kind: "unix", path } as Address, stats, allClosed };
}

const upstreamHello = (v = 1): Message => ({ t: "hello", v, role: "Server", id: 7 });

describe("Peer: the upstream's hello", () => {
  test("the peer stays connecting until the upstream's hello arrives; requests made meanwhile are pipelined ahead of it", async () => {
    const gotRequest = deferred<(message: Message) => void>();
    const upstream = fakeUpstream({
      onMessage(message, send) {
        // Hold our hello back until the request that was sent before it arrived.
        if (message.t === "req") gotRequest.resolve(send);
      },
    });
    const { peer, states, reached } = startPeer(upstream.address);
    const answer = peer.request("echo", "early");
    const send = await within(gotRequest.promise, "the request to reach the upstream before its hello");
    expect(upstream.stats.received.map((m) => m.t)).toEqual(["hello", "req"]);
    expect(peer.state).toBe("connecting");
    expect(peer.available).toBe(false);
    expect(states).toEqual([]);

    const opened = reached("open");
    const request = upstream.stats.received[1] as { id: number };
    send(upstreamHello());
    send({ t: "res", id: request.id, body: "late hello, early answer" });
    await opened;
    expect(await answer).toBe("late hello, early answer");
    expect(states).toEqual([["open", "connected"]]);
  });

  test("an upstream that accepts and closes at once is never reported open: down once, and the backoff keeps growing", async () => {
    const upstream = fakeUpstream({ onOpen: (socket) => socket.end() });
    let retries = 0;
    const sixRetries = deferred();
    const started = performance.now();
    const { peer, states } = startPeer(upstream.address, {
      backoff: {
        initialMs: 5,
        maxMs: 60_000,
        random: () => {
          if (++retries === 6) sixRetries.resolve();
          return 0.5; // no jitter: delays of 5, 10, 20, 40, 80 ms … unless a reset starts them over
        },
      },
    });
    const first = rejectionOf(peer.request("x", null));
    await within(sixRetries.promise, "six retries");
    // Six losses wait out five growing delays: at least 5+10+20+40+80 ms (a reset each time would make it 25).
    expect(performance.now() - started).toBeGreaterThanOrEqual(150);
    expect(await first).toMatchObject({ code: "connection_lost" });
    expect(states).toEqual([["down", "closed by peer"]]);
    expect(peer.available).toBe(false);
    expect(upstream.stats.maxOpen).toBe(1);
  });

  test("an upstream whose hello names another protocol version is dropped, reported down with the version", async () => {
    const upstream = fakeUpstream({
      onMessage(message, send) {
        if (message.t === "hello") send(upstreamHello(2));
      },
    });
    const { peer, states, reached } = startPeer(upstream.address, { reconnect: false });
    const pending = rejectionOf(peer.request("x", null));
    await reached("closed");
    expect(states).toEqual([["closed", "protocol version 2"]]);
    expect(await pending).toMatchObject({ code: "connection_lost" });
    await upstream.allClosed();
    expect(upstream.stats.accepted).toBe(1);
  });

  test("an upstream that never says hello is dropped after connectTimeoutMs with 'no hello'", async () => {
    const upstream = fakeUpstream({});
    const { peer, states, reached } = startPeer(upstream.address, { reconnect: false, connectTimeoutMs: 100 });
    const pending = rejectionOf(peer.request("x", null));
    await reached("closed");
    expect(states).toEqual([["closed", "no hello"]]);
    expect(await pending).toMatchObject({ code: "connection_lost" });
    expect(upstream.stats.received.map((m) => m.t)).toEqual(["hello", "req"]);
    await upstream.allClosed();
  });

  test("with reconnect, an upstream that never says hello is retried one connection at a time and never reported open", async () => {
    const upstream = fakeUpstream({});
    let retries = 0;
    const threeRetries = deferred();
    const { states } = startPeer(upstream.address, {
      connectTimeoutMs: 50,
      backoff: {
        initialMs: 5,
        maxMs: 20,
        random: () => {
          if (++retries === 3) threeRetries.resolve();
          return 0.5;
        },
      },
    });
    await within(threeRetries.promise, "three retries");
    expect(states).toEqual([["down", "no hello"]]);
    expect(upstream.stats.maxOpen).toBe(1);
  });
});
