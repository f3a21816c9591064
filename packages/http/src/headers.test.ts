import { expect, test } from "bun:test";
import { HOP_BY_HOP, addForwarded, newRequestId, stripHopByHop } from "./headers.ts";

test("stripHopByHop drops hop-by-hop headers in any case, and those the Connection header names", () => {
  const headers: Array<[string, string]> = [
    ["Host", "a"],
    ["Connection", "keep-alive, X-Secret , Upgrade"],
    ["connection", "x-other"],
    ["Keep-Alive", "timeout=5"],
    ["Transfer-Encoding", "chunked"],
    ["TE", "trailers"],
    ["Trailer", "x"],
    ["Upgrade", "websocket"],
    ["Proxy-Authorization", "Basic x"],
    ["Proxy-Authenticate", "Basic"],
    ["Proxy-Connection", "keep-alive"],
    ["x-secret", "1"],
    ["X-Other", "2"],
    ["Accept", "*/*"],
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
  ];
  expect(stripHopByHop(headers)).toEqual([
    ["Host", "a"],
    ["Accept", "*/*"],
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
  ]);
  expect(HOP_BY_HOP.has("transfer-encoding")).toBe(true);
  expect(HOP_BY_HOP.size).toBe(9);
});

const info = { clientAddress: "10.0.0.9", proto: "https" as const, host: "shop.example", requestId: "new-id" };

test("addForwarded appends the client and sets proto, host and a request id on a fresh request", () => {
  expect(addForwarded([["accept", "*/*"]], info)).toEqual([
    ["accept", "*/*"],
    ["x-forwarded-for", "10.0.0.9"],
    ["x-forwarded-proto", "https"],
    ["x-forwarded-host", "shop.example"],
    ["x-request-id", "new-id"],
  ]);
});

test("addForwarded keeps what earlier hops set: the X-Forwarded-For list, proto, host and a valid id", () => {
  const out = addForwarded(
    [
      ["X-Forwarded-For", "1.1.1.1, 2.2.2.2"],
      ["x-forwarded-for", "3.3.3.3"],
      ["X-Forwarded-Proto", "http"],
      ["X-Forwarded-Host", "first.example"],
      ["X-Request-Id", "abc-123:x.y_z"],
      ["x-request-id", "second"],
    ],
    info,
  );
  expect(out).toEqual([
    ["X-Forwarded-Proto", "http"],
    ["X-Forwarded-Host", "first.example"],
    ["x-forwarded-for", "1.1.1.1, 2.2.2.2, 3.3.3.3, 10.0.0.9"],
    ["x-request-id", "abc-123:x.y_z"],
  ]);
});

test("addForwarded replaces an invalid X-Request-Id and leaves X-Forwarded-Host out without a host", () => {
  for (const bad of ["", "has space", "a".repeat(129), "semi;colon", "new\nline"]) {
    const out = addForwarded([["X-Request-Id", bad]], { ...info, host: undefined });
    expect(out.filter(([n]) => n.toLowerCase() === "x-request-id")).toEqual([["x-request-id", "new-id"]]);
    expect(out.some(([n]) => n === "x-forwarded-host")).toBe(false);
  }
  expect(addForwarded([["x-request-id", "a".repeat(128)]], info).at(-1)).toEqual(["x-request-id", "a".repeat(128)]);
});

test("newRequestId gives 16 hex digits that a later hop accepts as valid, different each time", () => {
  const ids = new Set(Array.from({ length: 1000 }, () => newRequestId()));
  expect(ids.size).toBe(1000);
  for (const id of ids) {
    expect(id).toMatch(/^[0-9a-f]{16}$/);
    expect(addForwarded([["x-request-id", id]], info).at(-1)).toEqual(["x-request-id", id]);
  }
});

test("at the edge the client's own X-Forwarded-Proto and -Host are replaced, never trusted", () => {
  const out = addForwarded(
    [
      ["x-forwarded-proto", "https"],
      ["x-forwarded-host", "admin.internal"],
      ["accept", "*/*"],
    ],
    { ...info, proto: "http", edge: true },
  );
  expect(out).toEqual([
    ["accept", "*/*"],
    ["x-forwarded-for", "10.0.0.9"],
    ["x-forwarded-proto", "http"],
    ["x-forwarded-host", "shop.example"],
    ["x-request-id", "new-id"],
  ]);
});
