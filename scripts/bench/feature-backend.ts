// The backend of the front-door features benchmark: `bun scripts/bench/feature-backend.ts`. Listens on
// an ephemeral port of 127.0.0.1 and prints `listening on 127.0.0.1:<port>` once it serves.
// GET /cached and GET /fresh answer the same JSON document of about 4 KiB (what an API answers), the first
// cacheable for an hour, the second `no-store`; GET /healthcheck answers 200.
export {}; // a module: its names are its own

const rows = Array.from({ length: 72 }, (_, i) => ({ id: i + 1, name: `item ${i + 1}`, price: Math.round(((i * 7919) % 1000) * 1.5) / 100, tags: ["a", "b"] }));
const document = JSON.stringify({ rows, status: "successful" });
const json = (cacheControl: string) => () => new Response(document, { headers: { "Content-Type": "application/json", "Cache-Control": cacheControl } });
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  routes: {
    "/cached": { GET: json("public, max-age=3600") },
    "/fresh": { GET: json("no-store") },
    "/healthcheck": { GET: () => new Response("ok") },
  },
  fetch: () => new Response("not found", { status: 404 }),
});
console.log(`listening on 127.0.0.1:${server.port} (${document.length} bytes a document)`);
