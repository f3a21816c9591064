import { expect, setDefaultTimeout, test } from "bun:test";
import type { Socket } from "bun";
import { createHash } from "node:crypto";
import { Origin } from "./origin.ts";
import { deferred, onCleanup, useCleanups, within } from "./_test-helpers.ts";

// 256 MiB each way through loopback, hashed on both sides: seconds, more on a loaded machine.
setDefaultTimeout(120_000);
useCleanups();

const MiB = 1024 * 1024;
const TOTAL = 256 * MiB;
/** One random MiB, sent again and again from shifting offsets so the stream is not periodic per chunk. */
const PATTERN = crypto.getRandomValues(new Uint8Array(MiB));

/** A pull-based stream of `total` bytes in `chunk`-sized pieces; `seen` gets every piece it hands out. */
function patternStream(total: number, chunk: number, seen: (bytes: Uint8Array) => void): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= total) {
          controller.close();
          return;
        }
        const offset = (sent * 7) % (MiB - chunk);
        const piece = PATTERN.slice(offset, offset + Math.min(chunk, total - sent));
        sent += piece.length;
        seen(piece);
        controller.enqueue(piece);
      },
    },
    { highWaterMark: 0 },
  );
}

/** Tracks the highest RSS seen, sampled as bytes flow (a peak between before and after counts too). */
function rssMeter() {
  Bun.gc(true);
  const before = process.memoryUsage().rss;
  let peak = before;
  let since = 0;
  return {
    sample(bytes: number) {
      since += bytes;
      if (since < 16 * MiB) return;
      since = 0;
      peak = Math.max(peak, process.memoryUsage().rss);
    },
    growthMiB: () => (Math.max(peak, process.memoryUsage().rss) - before) / MiB,
  };
}

function origin(url: string): Origin {
  const o = new Origin({ url });
  onCleanup(() => o.close());
  return o;
}

test("a 256 MiB download streams through with bounded memory and the same bytes", async () => {
  const sentHash = createHash("sha256");
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: () => new Response(patternStream(TOTAL, 64 * 1024, (b) => sentHash.update(b)), { headers: { "content-length": String(TOTAL) } }),
  });
  onCleanup(() => server.stop(true));
  const meter = rssMeter();
  const res = await origin(`http://127.0.0.1:${server.port}`).request({ method: "GET", target: "/big", headers: [], body: null, timeoutMs: 10_000 });
  expect(res.status).toBe(200);
  const gotHash = createHash("sha256");
  let received = 0;
  for await (const chunk of res.body!) {
    gotHash.update(chunk);
    received += chunk.length;
    meter.sample(chunk.length);
  }
  expect(received).toBe(TOTAL);
  expect(gotHash.digest("hex")).toBe(sentHash.digest("hex"));
  expect(meter.growthMiB()).toBeLessThan(100);
});

test("a 256 MiB chunked upload streams through with bounded memory and the same bytes", async () => {
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    maxRequestBodySize: 2 * TOTAL,
    async fetch(req) {
      const hash = createHash("sha256");
      let bytes = 0;
      for await (const chunk of req.body!) {
        hash.update(chunk);
        bytes += chunk.length;
      }
      return Response.json({ bytes, sha: hash.digest("hex"), te: req.headers.get("transfer-encoding") });
    },
  });
  onCleanup(() => server.stop(true));
  const meter = rssMeter();
  const sentHash = createHash("sha256");
  const body = patternStream(TOTAL, 64 * 1024, (b) => {
    sentHash.update(b);
    meter.sample(b.length);
  });
  const res = await origin(`http://127.0.0.1:${server.port}`).request({ method: "POST", target: "/up", headers: [], body, timeoutMs: 10_000 });
  const answer = (await new Response(res.body).json()) as { bytes: number; sha: string; te: string };
  expect(answer).toEqual({ bytes: TOTAL, sha: sentHash.digest("hex"), te: "chunked" });
  expect(meter.growthMiB()).toBeLessThan(100);
});

interface Writer {
  accepted: number;
  total: number;
  blocked: boolean;
  onBlocked: (() => void) | null;
  onDrain: (() => void) | null;
}

/** Writes as much as the kernel takes; stops on a partial write until `drain`. */
function pump(socket: Socket<Writer>): void {
  const w = socket.data;
  while (w.accepted < w.total) {
    const offset = w.accepted % MiB;
    const piece = PATTERN.subarray(offset, Math.min(MiB, offset + (w.total - w.accepted)));
    const taken = socket.write(piece);
    if (taken > 0) w.accepted += taken;
    if (taken < piece.length) {
      w.blocked = true;
      w.onBlocked?.();
      return;
    }
  }
}

test("a slow consumer stalls the upstream's writes (backpressure) instead of growing client memory", async () => {
  const BODY = 256 * MiB;
  const blocked = deferred();
  let writer: Writer | undefined;
  const listener = Bun.listen<Writer>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(socket) {
        socket.data = { accepted: 0, total: BODY, blocked: false, onBlocked: () => blocked.resolve(), onDrain: null };
        writer = socket.data;
      },
      data(socket) {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Length: ${BODY}\r\n\r\n`);
        pump(socket);
      },
      drain(socket) {
        socket.data.blocked = false;
        socket.data.onDrain?.();
        pump(socket);
      },
    },
  });
  onCleanup(() => listener.stop(true));
  const meter = rssMeter();
  const res = await origin(`http://127.0.0.1:${listener.port}`).request({ method: "GET", target: "/", headers: [], body: null, timeoutMs: 10_000 });
  // Nobody reads the body yet. The server soon finds the socket full…
  await within(blocked.promise, "the server's first blocked write");
  // …and it must stay full: wait until no drain has come for 300 ms (a bounded wait for the absence of an event).
  for (let quiet = false, rounds = 0; !quiet && rounds < 50; rounds++) {
    const drained = deferred<boolean>();
    writer!.onDrain = () => drained.resolve(true);
    const timer = setTimeout(() => drained.resolve(false), 300);
    quiet = !(await drained.promise);
    clearTimeout(timer);
  }
  writer!.onDrain = null;
  const stalledAt = writer!.accepted;
  // Kernel buffers on both ends plus our 256 KiB queue: a few MiB, far from the whole body.
  expect(stalledAt).toBeLessThan(48 * MiB);
  meter.sample(16 * MiB);
  expect(meter.growthMiB()).toBeLessThan(64);

  // Reading resumes the flow; everything arrives, in order.
  let received = 0;
  let mismatches = 0;
  for await (const chunk of res.body!) {
    const offset = received % MiB;
    // Compare against the pattern where the chunk does not wrap (nearly always); cheap and catches reordering.
    if (offset + chunk.length <= MiB && Buffer.compare(chunk, PATTERN.subarray(offset, offset + chunk.length)) !== 0) mismatches++;
    received += chunk.length;
    meter.sample(chunk.length);
  }
  expect(received).toBe(BODY);
  expect(mismatches).toBe(0);
  expect(writer!.accepted).toBe(BODY);
  expect(meter.growthMiB()).toBeLessThan(100);
});
