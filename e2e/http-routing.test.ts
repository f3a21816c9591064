// Request routing from a config file through the compiled flat fleet: two named pools of real HTTP
// services, rules on path prefix, host, method and header (first match wins), and everything else
// to the fleet's own servers (the default pool).
import { expect, test } from "bun:test";
import { call, helloFrom, startUpstream } from "./_http.ts";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

test("requests go to the pool of the first route they match, and the rest to the fleet's servers", async () => {
  const [api, assets] = await Promise.all([startUpstream("api"), startUpstream("assets")]);
  const file = configFile(`
[watchdog]
proxies = 0
servers = 2

[load_balancer.pools]
api = ["${api.url}"]
assets = ["${assets.url}"]

[[load_balancer.routes]]
path = "/api/*"
pool = "api"

[[load_balancer.routes]]
host = "static.local"
pool = "assets"

[[load_balancer.routes]]
method = "DELETE"
header = { name = "X-Canary", value = "1" }
pool = "assets"
`);
  const fleet = await fleetFor(["--config", file]);
  const base = fleet.httpUrl();
  const upstreamOf = async (path: string, init: { method?: string; headers?: Record<string, string> } = {}) => {
    const answer = await call(base, init.method ?? "GET", path, { headers: init.headers });
    return answer.headers.get("x-upstream") ?? (helloFrom(answer) !== undefined ? "servers" : `status ${answer.status}`);
  };

  // Path prefix, with the path and query passed on untouched.
  expect(await upstreamOf("/api/users?id=7")).toBe("api");
  const echoed = await call(base, "GET", "/api/users?id=7");
  expect((echoed.json as { target: string }).target).toBe("/api/users?id=7");
  // Host (any port), then method and header together.
  expect(await upstreamOf("/logo.png", { headers: { host: "static.local:5000" } })).toBe("assets");
  expect(await upstreamOf("/item/3", { method: "DELETE", headers: { "x-canary": "1" } })).toBe("assets");
  // One condition short: not that route.
  expect(await upstreamOf("/item/3", { method: "DELETE" })).toBe("status 400");
  expect(await upstreamOf("/apix")).toBe("status 400");
  // The default pool: the fleet's servers, with the seed's answers.
  expect(await upstreamOf("/home")).toBe("servers");
});
