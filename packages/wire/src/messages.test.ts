import { describe, expect, test } from "bun:test";
import { WireError } from "./errors.ts";
import { PROTOCOL_VERSION, STREAM_CHUNK, validateMessage } from "./messages.ts";
import { catchError, SAMPLES } from "./_test-fixtures.ts";

function rejection(value: unknown): WireError {
  const error = catchError(() => validateMessage(value));
  expect(error).toBeInstanceOf(WireError);
  return error as WireError;
}

describe("validateMessage accepts", () => {
  test("one sample of every kind, returning the same object", () => {
    const kinds = new Set<string>();
    for (const message of SAMPLES) {
      expect(validateMessage(message)).toBe(message);
      kinds.add(message.t);
    }
    expect([...kinds].sort()).toEqual(["abort", "cancel", "credit", "ctl", "data", "err", "goaway", "hello", "ping", "pong", "req", "res"]);
  });

  const edges: [string, unknown][] = [
    ["hello with id 0 and the current version", { t: "hello", v: PROTOCOL_VERSION, role: "Watchdog", id: 0 }],
    ["hello from another major version (refusing it is the listener's job)", { t: "hello", v: 99, role: "x", id: 1 }],
    ["req with the largest id", { t: "req", id: 0xffff_ffff, op: "sqrt", body: 1 }],
    ["req without a ttl", { t: "req", id: 1, op: "sqrt", body: 1 }],
    ["req with a 64-character op", { t: "req", id: 1, op: "o".repeat(64), body: null }],
    ["req with a fractional ttl", { t: "req", id: 1, op: "sqrt", body: 1, ttl: 0.5 }],
    ["res without a body", { t: "res", id: 1 }],
    ["err with id 0 (about the connection)", { t: "err", id: 0, code: "version", message: "no" }],
    ["ping with id 0", { t: "ping", id: 0 }],
    ["goaway with an empty reason", { t: "goaway", reason: "" }],
    ["ctl with no data", { t: "ctl", kind: "ready" }],
    ["extra fields, kept for forward compatibility", { t: "ping", id: 1, future: true }],
    ["req streamed: false", { t: "req", id: 1, op: "http", body: null, streamed: false }],
    ["data with a chunk of the largest size", { t: "data", id: 1, chunk: new Uint8Array(STREAM_CHUNK) }],
    ["data ending with an empty chunk", { t: "data", id: 1, chunk: new Uint8Array(0), end: true }],
    ["credit of 2^32-1 bytes", { t: "credit", id: 0xffff_ffff, bytes: 0xffff_ffff }],
    ["abort with an empty message", { t: "abort", id: 1, code: "aborted", message: "" }],
  ];
  for (const [name, value] of edges) {
    test(name, () => {
      expect(validateMessage(value)).toBe(value as never);
    });
  }
});

describe("validateMessage rejects", () => {
  // [what is wrong, value, expected message, expected request id]
  const table: [string, unknown, string, number][] = [
    ["a number", 5, "a message must be a MessagePack map", 0],
    ["null", null, "a message must be a MessagePack map", 0],
    ["a string", "hello", "a message must be a MessagePack map", 0],
    ["an array", [{ t: "ping", id: 1 }], "a message must be a MessagePack map", 0],
    ["a map without t", { id: 4 }, "unknown message type undefined", 4],
    ["an unknown t", { t: "launch", id: 4 }, 'unknown message type "launch"', 4],
    ["a numeric t", { t: 1 }, "unknown message type 1", 0],
    ["t naming an Object.prototype member", { t: "constructor", id: 2 }, 'unknown message type "constructor"', 2],
    ["t naming __proto__", { t: "__proto__" }, 'unknown message type "__proto__"', 0],
    ["t naming toString", { t: "toString" }, 'unknown message type "toString"', 0],

    ["hello without v", { t: "hello", role: "x", id: 1 }, "hello.v must be a non-negative integer", 0],
    ["hello with a negative v", { t: "hello", v: -1, role: "x", id: 1 }, "hello.v must be a non-negative integer", 0],
    ["hello with a fractional v", { t: "hello", v: 1.5, role: "x", id: 1 }, "hello.v must be a non-negative integer", 0],
    ["hello with a string v", { t: "hello", v: "1", role: "x", id: 1 }, "hello.v must be a non-negative integer", 0],
    ["hello with an empty role", { t: "hello", v: 1, role: "", id: 1 }, "hello.role must be a non-empty string", 0],
    ["hello with a 65-character role", { t: "hello", v: 1, role: "r".repeat(65), id: 1 }, "hello.role must be a non-empty string", 0],
    ["hello with a numeric role", { t: "hello", v: 1, role: 7, id: 1 }, "hello.role must be a non-empty string", 0],
    // hello.id is the sender's number, not a request id: the error must not be matched to request 1.
    ["hello with a negative id", { t: "hello", v: 1, role: "x", id: -1 }, "hello.id must be an unsigned 32-bit integer", 0],
    ["hello with an id above 32 bits", { t: "hello", v: 1, role: "x", id: 2 ** 32 }, "hello.id must be an unsigned 32-bit integer", 0],

    ["req with id 0", { t: "req", id: 0, op: "sqrt" }, "req.id must be an integer from 1 to 2^32-1", 0],
    ["req with a fractional id", { t: "req", id: 1.5, op: "sqrt" }, "req.id must be an integer from 1 to 2^32-1", 0],
    ["req with a string id", { t: "req", id: "1", op: "sqrt" }, "req.id must be an integer from 1 to 2^32-1", 0],
    ["req with NaN id", { t: "req", id: Number.NaN, op: "sqrt" }, "req.id must be an integer from 1 to 2^32-1", 0],
    ["req without op", { t: "req", id: 3 }, "req.op must be a non-empty string of at most 64 characters", 3],
    ["req with an empty op", { t: "req", id: 3, op: "" }, "req.op must be a non-empty string of at most 64 characters", 3],
    ["req with a 65-character op", { t: "req", id: 3, op: "o".repeat(65) }, "req.op must be a non-empty string of at most 64 characters", 3],
    ["req with ttl 0", { t: "req", id: 3, op: "sqrt", ttl: 0 }, "req.ttl must be a positive number of ms, at most one day", 3],
    ["req with a negative ttl", { t: "req", id: 3, op: "sqrt", ttl: -5 }, "req.ttl must be a positive number of ms, at most one day", 3],
    ["req with a string ttl", { t: "req", id: 3, op: "sqrt", ttl: "5" }, "req.ttl must be a positive number of ms, at most one day", 3],
    ["req with a NaN ttl", { t: "req", id: 3, op: "sqrt", ttl: Number.NaN }, "req.ttl must be a positive number of ms, at most one day", 3],
    ["req with a null ttl", { t: "req", id: 3, op: "sqrt", ttl: null }, "req.ttl must be a positive number of ms, at most one day", 3],
    ["req with an infinite ttl", { t: "req", id: 3, op: "sqrt", ttl: Number.POSITIVE_INFINITY }, "req.ttl must be a positive number of ms, at most one day", 3],

    ["res without id", { t: "res", body: 1 }, "res.id must be an unsigned 32-bit integer", 0],
    ["res with a negative id", { t: "res", id: -2, body: 1 }, "res.id must be an unsigned 32-bit integer", 0],

    ["err without id", { t: "err", code: "x", message: "m" }, "err.id must be an unsigned 32-bit integer", 0],
    ["err with an empty code", { t: "err", id: 5, code: "", message: "m" }, "err.code must be a non-empty string", 5],
    ["err with a numeric code", { t: "err", id: 5, code: 500, message: "m" }, "err.code must be a non-empty string", 5],
    ["err without message", { t: "err", id: 5, code: "x" }, "err.message must be a string", 5],
    ["err with a numeric message", { t: "err", id: 5, code: "x", message: 1 }, "err.message must be a string", 5],

    ["ping without id", { t: "ping" }, "ping.id must be an unsigned 32-bit integer", 0],
    ["ping with a fractional id", { t: "ping", id: 0.5 }, "ping.id must be an unsigned 32-bit integer", 0],

    ["pong without id", { t: "pong", stats: { inflight: 0, total: 0, errors: 0 } }, "pong.id must be an unsigned 32-bit integer", 0],
    ["pong without stats", { t: "pong", id: 6 }, "pong.stats must hold non-negative integers inflight, total and errors", 6],
    ["pong with null stats", { t: "pong", id: 6, stats: null }, "pong.stats must hold non-negative integers inflight, total and errors", 6],
    ["pong with stats missing total", { t: "pong", id: 6, stats: { inflight: 0, errors: 0 } }, "pong.stats must hold non-negative integers inflight, total and errors", 6],
    ["pong with negative inflight", { t: "pong", id: 6, stats: { inflight: -1, total: 0, errors: 0 } }, "pong.stats must hold non-negative integers inflight, total and errors", 6],
    ["pong with fractional errors", { t: "pong", id: 6, stats: { inflight: 0, total: 0, errors: 0.5 } }, "pong.stats must hold non-negative integers inflight, total and errors", 6],

    ["goaway without reason", { t: "goaway" }, "goaway.reason must be a string", 0],
    ["goaway with a numeric reason", { t: "goaway", reason: 1 }, "goaway.reason must be a string", 0],

    ["ctl without kind", { t: "ctl" }, "ctl.kind must be a non-empty string", 0],
    ["ctl with an empty kind", { t: "ctl", kind: "" }, "ctl.kind must be a non-empty string", 0],
    ["ctl with a 65-character kind", { t: "ctl", kind: "k".repeat(65) }, "ctl.kind must be a non-empty string", 0],

    ["req with a numeric streamed", { t: "req", id: 3, op: "http", streamed: 1 }, "req.streamed must be a boolean", 3],
    ["res with a string streamed", { t: "res", id: 3, streamed: "yes" }, "res.streamed must be a boolean", 3],
    ["data with id 0", { t: "data", id: 0, chunk: new Uint8Array(1) }, "data.id must be an integer from 1 to 2^32-1", 0],
    ["data without chunk", { t: "data", id: 4, end: true }, `data.chunk must be binary of at most ${STREAM_CHUNK} bytes`, 4],
    ["data with a string chunk", { t: "data", id: 4, chunk: "abc" }, `data.chunk must be binary of at most ${STREAM_CHUNK} bytes`, 4],
    ["data with a chunk over the limit", { t: "data", id: 4, chunk: new Uint8Array(STREAM_CHUNK + 1) }, `data.chunk must be binary of at most ${STREAM_CHUNK} bytes`, 4],
    ["data with a numeric end", { t: "data", id: 4, chunk: new Uint8Array(1), end: 1 }, "data.end must be a boolean", 4],
    ["credit without bytes", { t: "credit", id: 4 }, "credit.bytes must be an integer from 1 to 2^32-1", 4],
    ["credit of 0 bytes", { t: "credit", id: 4, bytes: 0 }, "credit.bytes must be an integer from 1 to 2^32-1", 4],
    ["credit of a negative number of bytes", { t: "credit", id: 4, bytes: -65536 }, "credit.bytes must be an integer from 1 to 2^32-1", 4],
    ["credit of a fractional number of bytes", { t: "credit", id: 4, bytes: 1.5 }, "credit.bytes must be an integer from 1 to 2^32-1", 4],
    ["credit with id 0", { t: "credit", id: 0, bytes: 1 }, "credit.id must be an integer from 1 to 2^32-1", 0],
    ["cancel without code", { t: "cancel", id: 4, message: "m" }, "cancel.code must be a non-empty string", 4],
    ["cancel without message", { t: "cancel", id: 4, code: "x" }, "cancel.message must be a string", 4],
    ["abort with id 0", { t: "abort", id: 0, code: "x", message: "m" }, "abort.id must be an integer from 1 to 2^32-1", 0],
    ["abort with a numeric code", { t: "abort", id: 4, code: 1, message: "m" }, "abort.code must be a non-empty string", 4],
  ];

  for (const [name, value, message, requestId] of table) {
    test(`${name}: "${message}"`, () => {
      const error = rejection(value);
      expect(error.code).toBe("bad_message");
      expect(error.message).toBe(message);
      expect(error.requestId).toBe(requestId);
    });
  }
});
