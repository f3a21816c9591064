// One HTTP backend of the HTTP benchmark: `bun scripts/bench/http-backend.ts <id>`. Listens on an
// ephemeral port of 127.0.0.1 and prints `listening on 127.0.0.1:<port>` once it serves.
// GET /home answers what the fleet's servers answer; GET /healthcheck answers 200 (HAProxy's checks).
const id = Number(process.argv[2] ?? "1");
if (!Number.isInteger(id) || id < 1) {
  console.error("usage: bun scripts/bench/http-backend.ts <id ≥ 1>");
  process.exit(64);
}

// The same bytes as a fleet server's answer (the id has one digit for 1–9, so every backend's body has one length).
const body = `{"message": "Hello from Server: ${id}", "status": "successful"}`;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  routes: {
    "/home": { GET: () => new Response(body, { headers: { "Content-Type": "application/json" } }) },
    "/healthcheck": { GET: () => new Response("ok") },
  },
  fetch: () => new Response("not found", { status: 404 }),
});
console.log(`listening on 127.0.0.1:${server.port}`);
