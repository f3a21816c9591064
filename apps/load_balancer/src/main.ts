import { commonArgs, hopArgs, runCli, runRole } from "@switchyard/cli";
import { createLogger } from "@switchyard/log";
import { formatAddress } from "@switchyard/net";
import { DEFAULT_HTTP_PORT, resolveBalancerConfig } from "./config.ts";
import { httpLimitArgs } from "./http-limits.ts";
import { createLoadBalancer } from "./load-balancer.ts";

await runCli({
  name: "load_balancer",
  description: "Switchyard load balancer: routes wire clients and HTTP requests to reverse proxies (or, flat, to servers)",
  args: {
    upstreams: {
      type: "string",
      valueHint: "list",
      description: "The reverse proxies (with --flat: the servers) as N=ADDRESS pairs: 1=unix:/tmp/p1.sock,2=tcp://10.0.0.7:7100",
    },
    flat: { type: "boolean", description: "The upstreams are servers: the flat topology of seeds 001/002 (default: reverse proxies)" },
    listen: { type: "string", valueHint: "address", description: "Where wire clients connect (default <run-dir>/load_balancer.sock)" },
    "http-port": { type: "string", valueHint: "port", description: `The HTTP front door's port; 0: any free port; off: no HTTP (default ${DEFAULT_HTTP_PORT})` },
    "http-host": { type: "string", valueHint: "host", description: "The address the HTTP front door binds (default 127.0.0.1)" },
    "http-key": { type: "string", valueHint: "rule", description: "What HTTP requests are routed on: request (a random id each), address, header:NAME (default request; address for ip-hash)" },
    "admin-token": { type: "string", valueHint: "token", description: "/add and /rm need 'Authorization: Bearer <token>' (default: no token, loopback clients only)" },
    "timeout-ms": { type: "string", valueHint: "ms", description: "Budget of a request that carries none, and of every HTTP request (default 8000)" },
    allow: { type: "string", valueHint: "cidr", description: "Only these client addresses may use the HTTP front door (repeatable; 10.0.0.0/8, ::1); others get 403 (default: all)" },
    deny: { type: "string", valueHint: "cidr", description: "These client addresses get 403 from the HTTP front door (repeatable); wins over --allow" },
    "admin-allow": { type: "string", valueHint: "cidr", description: "The addresses /add, /rm and /rep?verbose=1 answer (repeatable; default: loopback only)" },
    "rate-limit": { type: "string", valueHint: "rate", description: "Requests each client may make: 10 or 10/s, 600/m; HTTP per address (429), wire per client id (rate_limited); default: no limit" },
    "rate-burst": { type: "string", valueHint: "n", description: "Requests a client may make at once after a quiet spell (default: a second's worth)" },
    "tls-cert": { type: "string", valueHint: "file", description: "PEM certificate (chain): the front door speaks HTTPS; reloaded on SIGHUP (with --tls-key)" },
    "tls-key": { type: "string", valueHint: "file", description: "PEM private key of --tls-cert" },
    "http-redirect-port": { type: "string", valueHint: "port", description: "Also listen for plain HTTP here and redirect every request to HTTPS (308); needs --tls-cert" },
    "http-cache-entries": { type: "string", valueHint: "n", description: "Cache GET answers that say they may be (Cache-Control, Expires), at most this many URLs; 0: off (default 0)" },
    "http-cache-bytes": { type: "string", valueHint: "bytes", description: "...and at most this many bytes (default 67108864)" },
    compress: { type: "string", valueHint: "list", description: "Compress answers for clients that accept it: on (zstd, br, gzip), off, or a list in order of preference (default off)" },
    "access-log": { type: "string", valueHint: "file", description: 'Append one line per request (id, client, request, route, upstream, status, duration, retries) to this file; "-": standard output; reopened on SIGHUP (default off)' },
    "compress-min-bytes": { type: "string", valueHint: "bytes", description: "Smaller answers go as they are (default 1024)" },
    "compress-types": { type: "string", valueHint: "list", description: "Media types to compress: application/json, text/*, +json … (default: text, JSON, JavaScript, XML, SVG, forms)" },
    ...httpLimitArgs,
    control: { type: "string", valueHint: "address", description: "The watchdog's control socket (set by the watchdog)" },
    ...hopArgs,
    ...commonArgs,
  },
  repeatable: ["upstream", "allow", "deny", "admin-allow", "compress", "compress-types"],
  // Only a config file can hold these: [load_balancer.pools] and [[load_balancer.routes]] (README: Request routing).
  fileKeys: ["pools", "routes"],
  epilogue: `HTTP endpoints: GET /rep[?verbose=1], POST /add, DELETE /rm, GET /heartbeat, GET|DELETE /cache,
GET /stats (JSON), GET /events (server-sent events), GET /metrics (Prometheus), GET /dashboard (live page);
any other path is routed to a server.
Example: load_balancer --listen unix:/tmp/lb.sock --upstreams 1=unix:/tmp/p1.sock,2=unix:/tmp/p2.sock --http-port 5000`,
  async run(args, file) {
    const config = resolveBalancerConfig(args, process.env, file);
    const log = createLogger({ role: "Load Balancer", level: config.logLevel, format: config.logFormat });
    const lb = await runRole({
      log,
      role: "load_balancer",
      id: 0,
      listen: config.listen,
      control: config.control,
      create: () => createLoadBalancer(config, log),
    });
    const upstreams = config.upstreams.map((u) => `#${u.n}`).join(", ") || "none yet";
    const http = lb.httpUrl ? `; HTTP on ${lb.httpUrl}` : "";
    log.info(`Started. Listening on ${formatAddress(config.listen)}; ${config.flat ? "servers" : "proxies"} ${upstreams}${http}`);
  },
});
