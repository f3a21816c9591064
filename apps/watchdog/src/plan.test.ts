import { expect, test } from "bun:test";
import { DEFAULT_HEALTH } from "@switchyard/upstream";
import { type WatchdogConfig } from "./config.ts";
import { TIERS, planFleet } from "./plan.ts";

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
  health: DEFAULT_HEALTH,
  limits: { maxInflight: 0, maxQueue: 1024 },
};

test("the seed's fleet: 6 servers, 2 proxies, 1 load balancer, numbered globally", () => {
  const plan = planFleet(config);
  expect(plan.map((c) => c.label)).toEqual([
    "Server #1", "Server #2", "Server #3", "Reverse Proxy #1",
    "Server #4", "Server #5", "Server #6", "Reverse Proxy #2",
    "Load Balancer",
  ]);
});

test("Reverse Proxy #2 owns Servers #4-#6 and the load balancer knows both proxies", () => {
  const plan = planFleet(config);
  const proxy2 = plan.find((c) => c.label === "Reverse Proxy #2")!;
  const upstreams = proxy2.args[proxy2.args.indexOf("--upstreams") + 1];
  expect(upstreams).toBe("4=unix:/run/sy/server-4.sock,5=unix:/run/sy/server-5.sock,6=unix:/run/sy/server-6.sock");
  const lb = plan.find((c) => c.tier === "balancer")!;
  expect(lb.args[lb.args.indexOf("--upstreams") + 1]).toBe("1=unix:/run/sy/reverse_proxy-1.sock,2=unix:/run/sy/reverse_proxy-2.sock");
  expect(lb.binary).toBe("/opt/sy/load_balancer");
});

test("every child gets the control socket and the log settings; servers get --work-ms only when set", () => {
  for (const child of planFleet({ ...config, workMs: 20, logLevel: "warn" })) {
    expect(child.args).toContain("unix:/run/sy/watchdog.sock");
    expect(child.args.join(" ")).toContain("--log-level warn");
    expect(child.args.includes("--work-ms")).toBe(child.tier === "server");
  }
  expect(planFleet(config).some((c) => c.args.includes("--work-ms"))).toBe(false);
});

test("dependencies start first: servers, then proxies, then the load balancer", () => {
  expect(TIERS).toEqual(["server", "proxy", "balancer"]);
});

test("--lb-policy goes to the load balancer, --proxy-policy to every proxy, the health settings to both", () => {
  const plan = planFleet({ ...config, lbPolicy: "consistent-hash:slots=1024", proxyPolicy: "least-connections", health: { ...DEFAULT_HEALTH, intervalMs: 3000, fall: 3 } });
  const flag = (args: string[], name: string) => args[args.indexOf(name) + 1];
  for (const child of plan) {
    if (child.tier === "server") {
      expect(child.args).not.toContain("--policy");
      continue;
    }
    expect(flag(child.args, "--policy")).toBe(child.tier === "balancer" ? "consistent-hash:slots=1024" : "least-connections");
    expect(flag(child.args, "--health-interval")).toBe("3000");
    expect(flag(child.args, "--health-fall")).toBe("3");
  }
});
