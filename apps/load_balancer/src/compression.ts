import { Readable } from "node:stream";
import { brotliCompressSync, constants, createBrotliCompress, createGzip, createZstdCompress, gzipSync, zstdCompressSync } from "node:zlib";
import type { HeaderList, OutgoingResponse } from "@switchyard/http";

export type Encoding = "zstd" | "br" | "gzip";
/** On equal q-values the first of these wins: zstd costs the least CPU for its ratio, gzip is the fallback every client has. */
export const ENCODINGS: readonly Encoding[] = ["zstd", "br", "gzip"];

export interface CompressionOptions {
  /** The encodings offered, in the server's order of preference. */
  encodings: readonly Encoding[];
  /** Bodies shorter than this (when their length is known) are sent as they are. */
  minBytes: number;
  /** Media types worth compressing: exact ("application/json"), a family ("text/*"), or a suffix ("+json"). */
  types: readonly string[];
}

export const DEFAULT_TYPES: readonly string[] = [
  "text/*",
  "application/json",
  "application/javascript",
  "application/xml",
  "application/x-www-form-urlencoded",
  "image/svg+xml",
  "+json",
  "+xml",
];

/**
 * The encoding to use for a client's Accept-Encoding (RFC 9110 §12.5.3): the offered one with the
 * highest q-value above 0, `*` standing for any not named; none without the header or a match.
 */
export function negotiate(acceptEncoding: string | undefined, offered: readonly Encoding[]): Encoding | undefined {
  if (acceptEncoding === undefined || acceptEncoding.trim() === "") return undefined;
  const weights = new Map<string, number>();
  for (const part of acceptEncoding.split(",")) {
    const [token = "", ...params] = part.trim().toLowerCase().split(";");
    const name = token.trim();
    if (name === "") continue;
    let q = 1;
    for (const param of params) {
      const [key, value] = param.trim().split("=");
      if (key?.trim() === "q") q = Number(value);
    }
    weights.set(name, Number.isFinite(q) ? Math.min(Math.max(q, 0), 1) : 0);
  }
  let best: Encoding | undefined;
  let bestQ = 0;
  for (const encoding of offered) {
    const q = weights.get(encoding) ?? weights.get("*") ?? 0;
    if (q > bestQ) {
      best = encoding;
      bestQ = q;
    }
  }
  return best;
}

/** Whether a Content-Type is in `types`. */
export function compressible(contentType: string | undefined, types: readonly string[]): boolean {
  if (contentType === undefined) return false;
  const media = contentType.split(";")[0]!.trim().toLowerCase();
  return types.some((type) => (type.startsWith("+") ? media.endsWith(type) : type.endsWith("/*") ? media.startsWith(type.slice(0, -1)) : media === type));
}

/**
 * The answer compressed for a client that accepts `acceptEncoding`, or the same answer when it
 * should not be: a bodiless or small one, a type not in the list, one already encoded (never
 * twice), or `Cache-Control: no-transform`. A compressed answer says `Content-Encoding`, gains
 * `Vary: Accept-Encoding`, loses its Content-Length (recomputed, or chunked for a stream) and has
 * its strong ETag made weak, as nginx does. Any answer that could have been compressed says Vary.
 */
export function compressAnswer(response: OutgoingResponse, acceptEncoding: string | undefined, options: CompressionOptions): OutgoingResponse {
  const { body } = response;
  const headers = response.headers ?? [];
  if (body === undefined || body === null || response.status < 200 || response.status === 204 || response.status === 304) return response;
  const get = (name: string) => headers.find(([key]) => key.toLowerCase() === name)?.[1];
  if (get("content-encoding") !== undefined || /\bno-transform\b/i.test(get("cache-control") ?? "")) return response;
  if (!compressible(get("content-type"), options.types)) return response;
  const size = typeof body === "string" ? Buffer.byteLength(body) : body instanceof Uint8Array ? body.length : Number(get("content-length") ?? Number.NaN);
  if (size < options.minBytes) return response;
  const encoding = negotiate(acceptEncoding, options.encodings);
  const vary = withVary(headers);
  if (encoding === undefined) return { ...response, headers: vary };
  const out: Array<[string, string]> = [];
  for (const [name, value] of vary) {
    const lower = name.toLowerCase();
    if (lower === "content-length") continue;
    out.push(lower === "etag" && !value.startsWith("W/") ? [name, `W/${value}`] : [name, value]);
  }
  out.push(["Content-Encoding", encoding]);
  if (body instanceof ReadableStream) return { status: response.status, headers: out, body: compressStream(body, encoding) };
  return { status: response.status, headers: out, body: compressBytes(typeof body === "string" ? Buffer.from(body) : body, encoding) };
}

function withVary(headers: HeaderList): Array<[string, string]> {
  const out = headers.map(([name, value]) => [name, value] as [string, string]);
  const vary = out.find(([name]) => name.toLowerCase() === "vary");
  if (vary === undefined) out.push(["Vary", "Accept-Encoding"]);
  else if (!/(^|,)\s*(accept-encoding|\*)\s*(,|$)/i.test(vary[1])) vary[1] = `${vary[1]}, Accept-Encoding`;
  return out;
}

// Levels for answers made on the fly: brotli's default (11) is for files compressed once, far too slow per request.
const BROTLI = { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } };
const GZIP = { level: 6 };
const ZSTD = { params: { [constants.ZSTD_c_compressionLevel]: 3 } };

function compressBytes(bytes: Uint8Array, encoding: Encoding): Uint8Array {
  switch (encoding) {
    case "zstd":
      return zstdCompressSync(bytes, ZSTD);
    case "br":
      return brotliCompressSync(bytes, BROTLI);
    case "gzip":
      return gzipSync(bytes, GZIP);
  }
}

/** A stream compressed as it flows, with backpressure (node:zlib's streaming compressors). */
function compressStream(stream: ReadableStream<Uint8Array>, encoding: Encoding): ReadableStream<Uint8Array> {
  const compressor = encoding === "zstd" ? createZstdCompress(ZSTD) : encoding === "br" ? createBrotliCompress(BROTLI) : createGzip(GZIP);
  // node:stream's web-stream types and the DOM's are the same objects under different names.
  return Readable.toWeb(Readable.fromWeb(stream as never).pipe(compressor)) as unknown as ReadableStream<Uint8Array>;
}
