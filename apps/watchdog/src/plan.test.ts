import { expect, test } from "bun:test";
import { DEFAULT_HEALTH } from "@switchyard/upstream";
import { type WatchdogConfig } from "./config.ts";
import { type Fleet, createFleet } from "./fleet.ts";
import { type ChildSpec, TIERS, httpUrl, routerSpecs, serverAddress, serverSpec } from "./plan.ts";

const config: WatchdogConfig = {
  proxies: 2,
  servers: 3,
  runDir: "/run/sy",
  binDir: "/opt/sy",
  workMs: 0,
  readyTimeoutMs: 10_000,
  stopTimeoutMs: 5000,
  logLevel: "info",
  logFormat: "text",
  lbPolicy: "client-id",
  proxyPolicy: "random",
  httpHost: "127.0.0.1",
  httpPort: 5000,
  adminToken: undefined,
  externalUpstreams: [],
  healthPath: undefined,
  timeoutMs: undefined,
  httpKey: undefined,
  health: DEFAULT_HEALTH,
  limits: { maxInflight: 0, maxQueue: 1024 },
  rooms: true,
};

/** The initial fleet as the watchdog starts it: its servers, then the routers, whose upstreams are the fleet's members. */
function planFleet(cfg: WatchdogConfig, fleet: Fleet = createFleet(cfg)): ChildSpec[] {
  const servers = fleet.list().map((slot) => serverSpec(cfg, slot));
  const routers = routerSpecs(cfg, (router) => fleet.membersOf(router).map((s) => ({ n: s.n, address: serverAddress(cfg, s.n) })));
  return [...servers, ...routers];
}
const flag = (args: string[], name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const argsOf = (plan: ChildSpec[], label: string) => plan.find((c) => c.label === label)!.args();

test("the seed's fleet: 6 servers, 2 proxies, 1 load balancer, numbered globally", () => {
  expect(planFleet(config).map((c) => c.label)).toEqual([
    "Server #1", "Server #2", "Server #3", "Server #4", "Server #5", "Server #6",
    "Reverse Proxy #1", "Reverse Proxy #2", "Load Balancer",
  ]);
});

test("Reverse Proxy #2 owns Servers #4-#6 and the load balancer knows both proxies", () => {
  const plan = planFleet(config);
  expect(flag(argsOf(plan, "Reverse Proxy #2"), "--upstreams")).toBe(
    "4=unix:/run/sy/server-4.sock,5=unix:/run/sy/server-5.sock,6=unix:/run/sy/server-6.sock",
  );
  const lb = plan.find((c) => c.tier === "balancer")!;
  expect(flag(lb.args(), "--upstreams")).toBe("1=unix:/run/sy/reverse_proxy-1.sock,2=unix:/run/sy/reverse_proxy-2.sock");
  expect(lb.args()).not.toContain("--flat");
  expect(lb.binary).toBe("/opt/sy/load_balancer");
});

test("each server is given its number and its name", () => {
  const args = serverSpec(config, { n: 7, name: "S5" }).args();
  expect([flag(args, "--id"), flag(args, "--name"), flag(args, "--listen")]).toEqual(["7", "S5", "unix:/run/sy/server-7.sock"]);
  expect(flag(argsOf(planFleet(config), "Server #2"), "--name")).toBe("Server 2");
});

test("a router's --upstreams is computed when it is spawned: a restart after /add and /rm starts with the current pool", () => {
  const fleet = createFleet(config);
  const plan = planFleet(config, fleet);
  const [added] = fleet.planAdd({ n: 1, hostnames: ["S5"] }, Math.random);
  fleet.insert([added!]);
  expect(flag(argsOf(plan, "Reverse Proxy #1"), "--upstreams")).toBe("1=unix:/run/sy/server-1.sock,2=unix:/run/sy/server-2.sock,3=unix:/run/sy/server-3.sock");
  fleet.setMembership(7, "member");
  fleet.delete(2);
  expect(flag(argsOf(plan, "Reverse Proxy #1"), "--upstreams")).toBe("1=unix:/run/sy/server-1.sock,3=unix:/run/sy/server-3.sock,7=unix:/run/sy/server-7.sock");
});

test("--proxies 0: no proxies; the load balancer gets the servers, --flat, and the external upstreams", () => {
  const flat = { ...config, proxies: 0, externalUpstreams: ["http://10.0.0.5:8080", "http://10.0.0.6:8080"], healthPath: "/health" };
  const plan = planFleet(flat);
  expect(plan.map((c) => c.label)).toEqual(["Server #1", "Server #2", "Server #3", "Load Balancer"]);
  const lb = argsOf(plan, "Load Balancer");
  expect(flag(lb, "--upstreams")).toBe("1=unix:/run/sy/server-1.sock,2=unix:/run/sy/server-2.sock,3=unix:/run/sy/server-3.sock");
  expect(lb).toContain("--flat");
  expect(lb.join(" ")).toContain("--upstream http://10.0.0.5:8080 --upstream http://10.0.0.6:8080 --health-path /health");
});

test("--servers 0: every proxy starts with an empty --upstreams list (and flat, so does the load balancer)", () => {
  const plan = planFleet({ ...config, servers: 0 });
  expect(plan.map((c) => c.label)).toEqual(["Reverse Proxy #1", "Reverse Proxy #2", "Load Balancer"]);
  expect(flag(argsOf(plan, "Reverse Proxy #1"), "--upstreams")).toBe("");
  expect(flag(argsOf(planFleet({ ...config, servers: 0, proxies: 0 }), "Load Balancer"), "--upstreams")).toBe("");
});

test("the HTTP flags and the admin token (in its environment, never in ps) go to the load balancer only; --upstream and --health-path to every proxy", () => {
  const token = "0123456789abcdef0123";
  const plan = planFleet({ ...config, httpHost: "0.0.0.0", httpPort: 8080, adminToken: token, externalUpstreams: ["http://api:9000"], healthPath: "/up" });
  for (const child of plan) {
    const args = child.args();
    const lb = child.tier === "balancer";
    expect([flag(args, "--http-host"), flag(args, "--http-port")]).toEqual(lb ? ["0.0.0.0", "8080"] : [undefined, undefined]);
    expect(args.some((arg) => arg.includes(token))).toBe(false);
    expect(child.env?.SWITCHYARD_ADMIN_TOKEN).toBe(lb ? token : undefined);
    expect([flag(args, "--upstream"), flag(args, "--health-path")]).toEqual(child.tier === "proxy" ? ["http://api:9000", "/up"] : [undefined, undefined]);
  }
  const lb = argsOf(planFleet(config), "Load Balancer");
  expect([flag(lb, "--http-host"), flag(lb, "--http-port"), lb.includes("--admin-token")]).toEqual(["127.0.0.1", "5000", false]);
});

test("the HTTP address as a URL, IPv6 hosts bracketed", () => {
  expect(httpUrl(config)).toBe("http://127.0.0.1:5000");
  expect(httpUrl({ httpHost: "::1", httpPort: 80 })).toBe("http://[::1]:80");
  expect(httpUrl({ httpHost: "127.0.0.1", httpPort: null })).toBeUndefined();
  expect(flag(argsOf(planFleet({ ...config, httpPort: null }), "Load Balancer"), "--http-port")).toBe("off");
});

test("every child gets the control socket, the fleet's run directory and the log settings; servers get --work-ms only when set", () => {
  for (const child of planFleet({ ...config, workMs: 20, logLevel: "warn" })) {
    expect(child.args()).toContain("unix:/run/sy/watchdog.sock");
    expect(flag(child.args(), "--run-dir")).toBe("/run/sy");
    expect(child.args().join(" ")).toContain("--log-level warn");
    expect(child.args().includes("--work-ms")).toBe(child.tier === "server");
  }
  expect(planFleet(config).some((c) => c.args().includes("--work-ms"))).toBe(false);
});

test("servers run the rooms group unless the fleet was started with --no-rooms", () => {
  expect(planFleet(config).some((c) => c.args().includes("--no-rooms"))).toBe(false);
  for (const child of planFleet({ ...config, rooms: false })) expect(child.args().includes("--no-rooms")).toBe(child.tier === "server");
});

test("dependencies start first: servers, then proxies, then the load balancer", () => {
  expect(TIERS).toEqual(["server", "proxy", "balancer"]);
});

test("--lb-policy goes to the load balancer, --proxy-policy to every proxy, the health settings to both", () => {
  const plan = planFleet({ ...config, lbPolicy: "consistent-hash:slots=1024", proxyPolicy: "least-connections", health: { ...DEFAULT_HEALTH, intervalMs: 3000, fall: 3 } });
  for (const child of plan) {
    const args = child.args();
    if (child.tier === "server") {
      expect(args).not.toContain("--policy");
      continue;
    }
    expect(flag(args, "--policy")).toBe(child.tier === "balancer" ? "consistent-hash:slots=1024" : "least-connections");
    expect(flag(args, "--health-interval")).toBe("3000");
    expect(flag(args, "--health-fall")).toBe("3");
  }
});
