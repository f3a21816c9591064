// Shared by the wire package's tests only; never exported from index.ts.
import type { Message } from "./messages.ts";

/** One valid message of every kind, with bodies that exercise every MessagePack family we rely on. */
export const SAMPLES: readonly Message[] = [
  { t: "hello", v: 1, role: "Load Balancer", id: 0 },
  { t: "req", id: 1, op: "sqrt", body: { value: 16, client: 107 }, ttl: 250 },
  { t: "req", id: 0xffff_ffff, op: "http", body: { method: "GET", path: "/home", headers: [["accept", "*/*"]], body: new Uint8Array([0, 1, 255]) } },
  { t: "res", id: 7, body: 4 },
  { t: "res", id: 8, body: { text: "é😀".repeat(100), big: 2 ** 52, neg: -3.5, nil: null, list: [1, "two", false] } },
  { t: "err", id: 0, code: "version", message: "protocol version 2 is not supported" },
  { t: "err", id: 3, code: "bad_request", message: "" },
  { t: "ping", id: 9 },
  { t: "pong", id: 9, stats: { inflight: 2, total: 1000, errors: 3 } },
  { t: "goaway", reason: "shutting down" },
  { t: "ctl", kind: "add", data: { servers: 2 } },
  { t: "ctl", kind: "ready" },
  { t: "req", id: 12, op: "http", key: 3, body: { method: "PUT", target: "/up" }, ttl: 900, streamed: true },
  { t: "res", id: 12, body: { status: 200 }, streamed: true },
  { t: "data", id: 12, chunk: new Uint8Array([1, 2, 3]) },
  { t: "data", id: 12, chunk: new Uint8Array(0), end: true },
  { t: "credit", id: 12, bytes: 131_072 },
  { t: "cancel", id: 12, code: "cancelled", message: "the reader went away" },
  { t: "abort", id: 12, code: "timeout", message: "no progress for 30000 ms" },
];

/** Runs `run` and returns what it threw; fails the test if it did not throw. */
export function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected the call to throw");
}

export { seededRandom } from "@switchyard/testing/random";
