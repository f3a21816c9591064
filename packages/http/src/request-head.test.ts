import { expect, test } from "bun:test";
import { HttpClientError } from "./errors.ts";
import { SMALL_BODY_BYTES, prepareRequest } from "./request-head.ts";
import type { UpstreamRequest } from "./types.ts";

const base: UpstreamRequest = { method: "GET", target: "/", headers: [], body: null, timeoutMs: 1000 };
const render = (req: Partial<UpstreamRequest>) => prepareRequest({ ...base, ...req }, "up:8080", "http://up:8080");
const headOf = (req: Partial<UpstreamRequest>) => Buffer.from(render(req).first).toString("latin1");

test("adds Host when missing and keeps the caller's otherwise; no framing for a bodiless GET", () => {
  expect(headOf({ target: "/a/b?x=1", headers: [["Accept", "*/*"]] })).toBe("GET /a/b?x=1 HTTP/1.1\r\nHost: up:8080\r\nAccept: */*\r\n\r\n");
  expect(headOf({ headers: [["host", "example.com"]] })).toBe("GET / HTTP/1.1\r\nhost: example.com\r\n\r\n");
});

test("POST, PUT and PATCH without a body say Content-Length: 0", () => {
  for (const method of ["POST", "PUT", "PATCH"]) expect(headOf({ method })).toContain("\r\nContent-Length: 0\r\n");
  expect(headOf({ method: "DELETE" })).not.toContain("Content-Length");
});

test("a byte body sets Content-Length (the caller's framing headers are replaced) and shares the head's buffer when small", () => {
  const prepared = render({
    method: "PUT",
    headers: [["Content-Length", "999"], ["Transfer-Encoding", "chunked"]],
    body: Buffer.from("hello"),
  });
  expect(Buffer.from(prepared.first).toString()).toBe("PUT / HTTP/1.1\r\nHost: up:8080\r\nContent-Length: 5\r\n\r\nhello");
  expect(prepared.rest).toBeNull();
  const big = new Uint8Array(SMALL_BODY_BYTES + 1);
  const large = render({ method: "POST", body: big });
  expect(large.rest).toBe(big); // written after the head, without a copy
  expect(Buffer.from(large.first).toString()).toContain(`Content-Length: ${big.length}\r\n\r\n`);
});

test("a stream body is chunked unless the caller declared its Content-Length", () => {
  const stream = () => new ReadableStream<Uint8Array>();
  expect(render({ method: "POST", body: stream() }).framing).toEqual({ kind: "chunked" });
  expect(headOf({ method: "POST", body: stream() })).toContain("Transfer-Encoding: chunked\r\n");
  const declared = render({ method: "POST", body: stream(), headers: [["content-length", "42"]] });
  expect(declared.framing).toEqual({ kind: "length", length: 42 });
  expect(Buffer.from(declared.first).toString()).toContain("Content-Length: 42\r\n");
  expect(() => render({ method: "POST", body: stream(), headers: [["content-length", "4x"]] })).toThrow("invalid Content-Length");
});

test("rejects what could split the request: bad methods, targets, header names and values", () => {
  const rejects = (req: Partial<UpstreamRequest>) => {
    let error: unknown;
    try {
      render(req);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(HttpClientError);
    expect(error).toMatchObject({ code: "protocol", sent: false });
  };
  rejects({ method: "GET /x" });
  rejects({ method: "" });
  rejects({ target: "/a b" });
  rejects({ target: "http://other/" });
  rejects({ target: "/x\r\nEvil: 1" });
  rejects({ headers: [["X-A", "1\r\nEvil: 1"]] });
  rejects({ headers: [["Bad Name", "1"]] });
  rejects({ headers: [["X-A", "snowman \u2603"]] });
  expect(headOf({ method: "OPTIONS", target: "*" })).toStartWith("OPTIONS * HTTP/1.1\r\n");
});
