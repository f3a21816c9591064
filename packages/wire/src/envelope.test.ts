import { describe, expect, test } from "bun:test";
import { Packr, unpack } from "msgpackr";
import { decodeBody, encodeBody } from "./codec.ts";
import { WireError } from "./errors.ts";
import type { Message, Request, Response } from "./messages.ts";
import { RawBody } from "./raw-body.ts";

// A general encoder with another layout (map16 headers, ints as small as they fit): what another library might send.
const other = new Packr({ useRecords: false, mapsAsObjects: true });

const hot: Array<Request | Response> = [
  { t: "req", id: 1, op: "sqrt", body: { client: 107, value: 16 }, ttl: 7600.25 },
  { t: "req", id: 0xffff_ffff, op: "sqrt", body: { client: 1, value: 0 } },
  { t: "req", id: 42, op: "rooms", body: ["reserve", "SA318", "8:30-9:30", "Monday"], ttl: 1 },
  { t: "req", id: 43, op: "sqrt", key: 107, body: { client: 107, value: 2 }, ttl: 9500 },
  { t: "req", id: 44, op: "sqrt", key: 0xffff_ffff, body: 1 },
  { t: "req", id: 45, op: "http", key: 9, body: { method: "PUT" }, ttl: 30_000, streamed: true },
  { t: "req", id: 46, op: "http", body: null, streamed: true },
  { t: "res", id: 0, body: { result: 4 } },
  { t: "res", id: 7, body: null },
  { t: "res", id: 8, body: "x".repeat(70_000) },
  { t: "res", id: 9, body: { status: 200 }, streamed: true },
];

describe("the canonical req/res layout", () => {
  test.each(hot.map((m) => [m.t, m.id, m] as const))("%s #%d is plain MessagePack that any library decodes to the same map", (_t, _id, message) => {
    expect(unpack(encodeBody(message))).toEqual(message);
  });

  test.each(hot.map((m) => [m.t, m.id, m] as const))("%s #%d round-trips through our decoder", (_t, _id, message) => {
    expect(decodeBody(encodeBody(message))).toEqual(message);
  });

  test.each(hot.map((m) => [m.t, m.id, m] as const))("%s #%d from another encoder's layout decodes the same", (_t, _id, message) => {
    expect(decodeBody(other.pack(message))).toEqual(message);
  });

  test("an op that does not fit (non-ASCII, longer than 31) still round-trips through the general path", () => {
    for (const op of ["résumé", "o".repeat(40)]) {
      const message: Request = { t: "req", id: 3, op, body: 1 };
      expect(unpack(encodeBody(message))).toEqual(message);
      expect(decodeBody(encodeBody(message))).toEqual(message);
    }
  });

  test("a canonical req with id 0 or an infinite ttl is a bad_message, not a crash", () => {
    const zero = encodeBody({ t: "req", id: 1, op: "sqrt", body: 1 });
    zero[14] = 0; // the id's last byte: id 1 becomes 0
    expect(() => decodeBody(zero)).toThrow(WireError);
    const infinite = encodeBody({ t: "req", id: 5, op: "sqrt", body: 1, ttl: Number.POSITIVE_INFINITY });
    const error = (() => {
      try {
        decodeBody(infinite);
      } catch (e) {
        return e as WireError;
      }
    })();
    expect(error?.code).toBe("bad_message");
    expect(error?.requestId).toBe(5);
  });

  test("a canonical envelope around bytes that are not MessagePack is bad_frame", () => {
    const frame = encodeBody({ t: "res", id: 9, body: new RawBody(Uint8Array.of(0xa5, 0x61)) }); // a 5-byte string cut after one byte
    expect(() => decodeBody(frame)).toThrow(/not valid MessagePack/);
  });
});

describe("passing bodies through", () => {
  test("a decoded req keeps its body's bytes, not as a field of its own", () => {
    const request = decodeBody(encodeBody({ t: "req", id: 2, op: "sqrt", body: { client: 3, value: 9 } })) as Request;
    expect(request.rawBody).toBeInstanceOf(RawBody);
    expect(unpack(request.rawBody!.bytes)).toEqual({ client: 3, value: 9 });
    expect(Object.keys(request)).not.toContain("rawBody");
  });

  test("a RawBody is sent as its bytes: the next hop reads the original body", () => {
    const incoming = decodeBody(encodeBody({ t: "req", id: 2, op: "sqrt", body: { client: 3, value: 9 } })) as Request;
    const forwarded: Message = { t: "req", id: 900, op: incoming.op, body: incoming.rawBody, ttl: 100 };
    expect(decodeBody(encodeBody(forwarded))).toEqual({ t: "req", id: 900, op: "sqrt", body: { client: 3, value: 9 }, ttl: 100 });
  });

  test("with rawResponses, a res body stays bytes, and re-sent it reaches the client decoded", () => {
    const answer = decodeBody(encodeBody({ t: "res", id: 4, body: { result: 3 } }), { rawResponses: true }) as Response;
    expect(answer.body).toBeInstanceOf(RawBody);
    expect(decodeBody(encodeBody({ t: "res", id: 11, body: answer.body }))).toEqual({ t: "res", id: 11, body: { result: 3 } });
  });

  test("a RawBody in a message that takes the general path is written as the value it holds", () => {
    const message: Request = { t: "req", id: 6, op: "ünïcode", body: new RawBody(other.pack({ a: 1 })) };
    expect(unpack(encodeBody(message))).toEqual({ t: "req", id: 6, op: "ünïcode", body: { a: 1 } });
  });
});

describe("streamed heads", () => {
  test("streamed: false is written as absent, and the frame is as small as an ordinary one", () => {
    const plain = encodeBody({ t: "res", id: 3, body: 1 });
    expect(encodeBody({ t: "res", id: 3, body: 1, streamed: false })).toEqual(plain);
    expect(decodeBody(plain)).toEqual({ t: "res", id: 3, body: 1 });
  });

  test("a streamed res keeps its head as bytes with rawResponses, like any other", () => {
    const answer = decodeBody(encodeBody({ t: "res", id: 4, body: { status: 200 }, streamed: true }), { rawResponses: true }) as Response;
    expect(answer.streamed).toBe(true);
    expect(answer.body).toBeInstanceOf(RawBody);
    expect(unpack((answer.body as RawBody).bytes)).toEqual({ status: 200 });
  });

  test("a streamed req decodes lazily too, keeping its routing fields", () => {
    const bytes = encodeBody({ t: "req", id: 5, op: "http", key: 7, body: { method: "PUT" }, ttl: 50, streamed: true });
    const request = decodeBody(bytes, { lazyRequests: true }) as Request;
    expect([request.id, request.key, request.ttl, request.streamed, request.body]).toEqual([5, 7, 50, true, { method: "PUT" }]);
  });

  test("a canonical head whose streamed flag is not true is left to the general path, which rejects it", () => {
    const bytes = encodeBody({ t: "res", id: 6, body: 1, streamed: true });
    bytes[bytes.indexOf(0xc3)] = 0xc2; // true becomes false: not canonical, but valid
    expect(decodeBody(bytes)).toEqual({ t: "res", id: 6, body: 1, streamed: false });
    bytes[bytes.indexOf(0xc2)] = 0x01; // a number: a bad_message for request 6
    expect(() => decodeBody(bytes)).toThrow("res.streamed must be a boolean");
  });
});

describe("routing without reading the body", () => {
  test("with lazyRequests, the body is decoded only when read, and then as sent", () => {
    const bytes = encodeBody({ t: "req", id: 5, op: "sqrt", key: 112, body: { client: 112, value: 4 }, ttl: 100 });
    const request = decodeBody(bytes, { lazyRequests: true }) as Request;
    expect([request.id, request.op, request.key, request.ttl]).toEqual([5, "sqrt", 112, 100]);
    expect(unpack(request.rawBody!.bytes)).toEqual({ client: 112, value: 4 });
    expect(request.body).toEqual({ client: 112, value: 4 });
  });

  test("a lazy body that is not MessagePack throws bad_frame when read, not when routed", () => {
    const bytes = encodeBody({ t: "req", id: 6, op: "sqrt", key: 1, body: new RawBody(Uint8Array.of(0xa5, 0x61)) });
    const request = decodeBody(bytes, { lazyRequests: true }) as Request;
    expect(request.key).toBe(1);
    expect(() => request.body).toThrow(/not valid MessagePack/);
  });

  test("a key that is not an unsigned 32-bit integer is a bad_message on the general path", () => {
    expect(() => decodeBody(other.pack({ t: "req", id: 7, op: "sqrt", key: -1, body: 1 }))).toThrow("req.key must be an unsigned 32-bit integer");
  });
});
