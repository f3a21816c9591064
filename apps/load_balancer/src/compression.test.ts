import { describe, expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from "node:zlib";
import type { OutgoingResponse } from "@switchyard/http";
import { type CompressionOptions, DEFAULT_TYPES, compressAnswer, compressible, negotiate } from "./compression.ts";

const ALL = ["zstd", "br", "gzip"] as const;

describe("negotiate", () => {
  test.each([
    [undefined, undefined],
    ["", undefined],
    ["gzip", "gzip"],
    ["gzip, br", "br"],
    ["gzip, deflate, br, zstd", "zstd"],
    ["br;q=0.5, gzip;q=0.9", "gzip"],
    ["gzip;q=0, br;q=0", undefined],
    ["identity", undefined],
    ["*", "zstd"],
    ["*;q=0.1, gzip;q=0.5", "gzip"],
    ["zstd;q=0, *", "br"],
    ["GZIP;Q=1", "gzip"],
    ["gzip;q=abc", undefined],
  ])("Accept-Encoding %p → %p", (header, expected) => {
    expect(negotiate(header, ALL)).toBe(expected as never);
  });

  test("only what is offered, in the server's order on equal weights", () => {
    expect(negotiate("zstd, br, gzip", ["gzip", "br"])).toBe("gzip");
    expect(negotiate("zstd", ["gzip"])).toBeUndefined();
  });
});

test("compressible types: exact, family and suffix, parameters ignored", () => {
  for (const type of ["text/html; charset=utf-8", "application/json", "application/problem+json", "image/svg+xml", "TEXT/CSS"]) expect([type, compressible(type, DEFAULT_TYPES)]).toEqual([type, true]);
  for (const type of [undefined, "image/png", "application/octet-stream", "video/mp4", "application/zip"]) expect([type, compressible(type, DEFAULT_TYPES)]).toEqual([type, false]);
});

describe("compressAnswer", () => {
  const options: CompressionOptions = { encodings: ALL, minBytes: 100, types: DEFAULT_TYPES };
  const text = JSON.stringify({ rows: Array.from({ length: 200 }, (_, i) => ({ i, name: `row ${i}` })) });
  const answer = (headers: Array<[string, string]>, body: OutgoingResponse["body"] = text, status = 200): OutgoingResponse => ({ status, headers, body });
  const headerOf = (response: OutgoingResponse, name: string) => response.headers?.find(([key]) => key.toLowerCase() === name)?.[1];

  test.each([
    ["zstd", zstdDecompressSync],
    ["br", brotliDecompressSync],
    ["gzip", gunzipSync],
  ] as const)("%s: the same bytes back, smaller, with Content-Encoding, Vary and a weak ETag, and no stale Content-Length", (encoding, decompress) => {
    const out = compressAnswer(answer([["Content-Type", "application/json"], ["ETag", '"abc"'], ["Content-Length", String(text.length)]]), encoding, options);
    const body = out.body as Uint8Array;
    expect(body.length).toBeLessThan(text.length / 3);
    expect(Buffer.from(decompress(body)).toString()).toBe(text);
    expect(headerOf(out, "content-encoding")).toBe(encoding);
    expect(headerOf(out, "vary")).toBe("Accept-Encoding");
    expect(headerOf(out, "etag")).toBe('W/"abc"');
    expect(headerOf(out, "content-length")).toBeUndefined();
  });

  test("never twice, never against no-transform, never below the threshold or for other types or bodiless answers", () => {
    const cases: OutgoingResponse[] = [
      answer([["Content-Type", "application/json"], ["Content-Encoding", "gzip"]], new Uint8Array(500)),
      answer([["Content-Type", "application/json"], ["Cache-Control", "public, no-transform"]]),
      answer([["Content-Type", "application/json"]], "{}"),
      answer([["Content-Type", "image/png"]], new Uint8Array(5000)),
      answer([["Content-Type", "application/json"]], null, 204),
    ];
    for (const response of cases) expect(compressAnswer(response, "gzip, br, zstd", options)).toBe(response);
  });

  test("a client that accepts none of them gets the answer as it is, with Vary (a cache must not serve it to one that does)", () => {
    const out = compressAnswer(answer([["Content-Type", "text/plain"], ["Vary", "Origin"]]), "identity", options);
    expect(out.body).toBe(text);
    expect(headerOf(out, "vary")).toBe("Origin, Accept-Encoding");
    expect(headerOf(out, "content-encoding")).toBeUndefined();
  });

  test("a stream is compressed as it flows and decompresses to the same bytes", async () => {
    const chunks = Array.from({ length: 50 }, (_, i) => new TextEncoder().encode(`chunk ${i} `.repeat(500)));
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks.shift();
        if (next === undefined) controller.close();
        else controller.enqueue(next);
      },
    });
    const expected = Array.from({ length: 50 }, (_, i) => `chunk ${i} `.repeat(500)).join("");
    const out = compressAnswer(answer([["Content-Type", "text/plain"], ["Content-Length", String(expected.length)]], stream), "gzip", options);
    expect(headerOf(out, "content-length")).toBeUndefined();
    const compressed = new Uint8Array(await new Response(out.body as ReadableStream).arrayBuffer());
    expect(compressed.length).toBeLessThan(expected.length / 10);
    expect(gunzipSync(compressed).toString()).toBe(expected);
  });
});
