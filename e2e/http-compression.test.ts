// Compression at the front door (--compress on, in the [load_balancer] table of a config file),
// through the compiled flat fleet in front of a real HTTP service: the encoding the client prefers
// among those it accepts, only for answers worth it, with Vary, and bytes that decompress exactly.
import { expect, test } from "bun:test";
import { brotliDecompressSync, gunzipSync, zstdDecompressSync } from "node:zlib";
import { type Echo, rawExchange, startUpstream } from "./_http.ts";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

/** One GET /echo with these request headers, its head fields (lower-case) and body bytes (Content-Length framed). */
async function get(base: string, headers: string): Promise<{ status: number; fields: Map<string, string>; body: Buffer }> {
  const raw = await rawExchange(base, `GET /echo HTTP/1.1\r\nHost: app.local\r\nConnection: close\r\nX-Pad: ${"p".repeat(3000)}\r\n${headers}\r\n`);
  const end = raw.indexOf("\r\n\r\n");
  const [statusLine = "", ...lines] = raw.subarray(0, end).toString("latin1").split("\r\n");
  const fields = new Map(lines.map((line) => [line.slice(0, line.indexOf(":")).toLowerCase(), line.slice(line.indexOf(":") + 1).trim()]));
  return { status: Number(statusLine.split(" ")[1]), fields, body: raw.subarray(end + 4) };
}

test("answers are compressed with the client's preferred encoding, and decompress to exactly what the service sent", async () => {
  const upstream = await startUpstream("app");
  const fleet = await fleetFor(["--config", configFile(`
[watchdog]
proxies = 0
servers = 0
upstream = ["${upstream.url}"]

[load_balancer]
compress = "on"
`)]);
  const base = fleet.httpUrl();

  const plain = await get(base, "");
  expect(plain.status).toBe(200);
  expect(plain.fields.get("content-encoding")).toBeUndefined();
  expect(plain.fields.get("vary")).toBe("Accept-Encoding");
  const padOf = (echo: Echo) => echo.headers.find(([name]) => name === "x-pad")?.[1];
  const pad = padOf(JSON.parse(plain.body.toString()) as Echo);
  expect(pad).toHaveLength(3000);

  const decoders = { zstd: zstdDecompressSync, br: brotliDecompressSync, gzip: gunzipSync };
  for (const [accept, expected] of [["gzip", "gzip"], ["gzip, br", "br"], ["br;q=0.5, zstd;q=0.8, gzip;q=0.1", "zstd"], ["*", "zstd"]] as const) {
    const answer = await get(base, `Accept-Encoding: ${accept}\r\n`);
    expect([accept, answer.fields.get("content-encoding")]).toEqual([accept, expected]);
    expect(Number(answer.fields.get("content-length"))).toBe(answer.body.length);
    expect(answer.body.length).toBeLessThan(plain.body.length / 4);
    expect(padOf(JSON.parse(decoders[expected](answer.body).toString()) as Echo)).toBe(pad);
  }

  // A client that refuses every encoding gets the bytes as they are.
  expect((await get(base, "Accept-Encoding: identity\r\n")).fields.get("content-encoding")).toBeUndefined();
});
