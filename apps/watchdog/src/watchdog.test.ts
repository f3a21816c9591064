// The watchdog with stand-ins for the other binaries (_fixtures/fake-member.ts): start, fleet
// changes on the control socket, a router's restart, a fatal start, and the shutdown order.
import { afterEach, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fleetSocket } from "@switchyard/cli";
import { createLogger } from "@switchyard/log";
import { Peer, parseAddress } from "@switchyard/net";
import { resolveWatchdogConfig } from "./config.ts";
import { type Watchdog, createWatchdog } from "./watchdog.ts";

interface Event {
  role: string;
  id: number;
  event: "spawn" | "ctl" | "term";
  args?: string[];
  message?: { kind: string; data: unknown };
}

const cleanups: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = performance.now() + 10_000;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(10);
  }
}

/** A watchdog whose binaries are the fake member, in a fresh run directory; `fail` names a role that exits 78. */
function fakeFleet(flags: Record<string, string>, fail = "") {
  const dir = mkdtempSync(join(tmpdir(), "sy-wd-"));
  const bin = join(dir, "bin");
  mkdirSync(bin);
  const fixture = join(import.meta.dir, "_fixtures", "fake-member.ts");
  const recordFile = join(dir, "record.jsonl");
  // Children get the environment the test process started with, so the settings go in the wrapper.
  for (const role of ["server", "reverse_proxy", "load_balancer"]) {
    writeFileSync(join(bin, role), `#!/bin/sh\nFAKE_RECORD="${recordFile}" FAKE_FAIL="${fail}" exec "${process.execPath}" "${fixture}" ${role} "$@"\n`);
    chmodSync(join(bin, role), 0o755);
  }
  const lines: string[] = [];
  const log = createLogger({ role: "Watchdog", sink: (_fd, line) => lines.push(line.trimEnd()) });
  const config = resolveWatchdogConfig({ "run-dir": join(dir, "run"), "bin-dir": bin, "stop-timeout-ms": "2000", ...flags });
  mkdirSync(config.runDir, { mode: 0o700 });
  const watchdog: Watchdog = createWatchdog(config, log, () => 0);
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(() => watchdog.kill());
  const events = (): Event[] =>
    existsSync(recordFile) ? readFileSync(recordFile, "utf8").trim().split("\n").filter(Boolean).map((line) => JSON.parse(line) as Event) : [];
  const ask = async (op: string, body: unknown) => {
    const peer = new Peer({ address: parseAddress(fleetSocket.watchdog(config.runDir)), role: "test", id: 1, reconnect: false });
    try {
      return (await peer.request(op, body, 10_000)) as { replicas: Array<{ name: string; n: number; state: string }> };
    } finally {
      peer.close();
    }
  };
  return { watchdog, lines, events, ask, runDir: config.runDir };
}

const flagOf = (args: string[] | undefined, name: string) => args?.[args.indexOf(name) + 1];

test("a fleet that grows and shrinks: routers are told, a restarted router starts with the current servers, shutdown goes in order", async () => {
  const fleet = fakeFleet({ proxies: "1", servers: "1" });
  expect(await fleet.watchdog.start()).toBe("ready");
  expect(fleet.lines).toContain(
    `[Watchdog]: Fleet ready: 1 load balancer, 1 reverse proxy, 1 server. Clients connect to unix:${fleet.runDir}/load_balancer.sock; HTTP on http://127.0.0.1:5000`,
  );
  expect(flagOf(fleet.events().find((e) => e.role === "server")?.args, "--name")).toBe("Server 1");

  const added = await fleet.ask("fleet.add", { n: 1, hostnames: ["S5"] });
  expect(added.replicas.map((r) => [r.n, r.name, r.state])).toEqual([[1, "Server 1", "up"], [2, "S5", "up"]]);
  const server2 = `unix:${fleet.runDir}/server-2.sock`;
  await until(() => fleet.events().some((e) => e.event === "ctl" && e.message?.kind === "upstreams"), "the proxy to hear of S5");
  expect(fleet.events().filter((e) => e.message?.kind === "upstreams")).toEqual([
    { role: "reverse_proxy", id: 1, event: "ctl", message: { t: "ctl", kind: "upstreams", data: { add: [{ n: 2, address: server2 }] } } } as Event,
  ]);

  // Reverse Proxy #1 dies: it is re-created with both servers on its command line.
  const proxy = fleet.watchdog.children.find((c) => c.spec.label === "Reverse Proxy #1")!;
  process.kill(proxy.runningPid!, "SIGKILL");
  await until(() => proxy.restarts === 1 && proxy.ready, "the proxy to come back");
  const spawns = fleet.events().filter((e) => e.role === "reverse_proxy" && e.event === "spawn");
  expect(spawns.map((e) => flagOf(e.args, "--upstreams"))).toEqual([
    `1=unix:${fleet.runDir}/server-1.sock`,
    `1=unix:${fleet.runDir}/server-1.sock,2=${server2}`,
  ]);

  const removed = await fleet.ask("fleet.rm", { n: 1, hostnames: ["Server 1"] });
  expect(removed.replicas.map((r) => r.name)).toEqual(["S5"]);
  expect(fleet.lines).toContain("[Watchdog]: Removing Server #1 (Server 1)");
  await until(() => fleet.events().some((e) => e.message?.kind === "upstreams" && JSON.stringify(e.message.data) === '{"remove":[1]}'), "the proxy to drop Server #1");
  expect(fleet.events().filter((e) => e.event === "term").map((e) => `${e.role}:${e.id}`)).toEqual(["server:1"]);

  await fleet.watchdog.shutdown();
  expect(fleet.events().filter((e) => e.event === "term").map((e) => `${e.role}:${e.id}`)).toEqual([
    "server:1", "server:2", "reverse_proxy:1", "load_balancer:0",
  ]);
}, 30_000);

test("a load balancer that exits 78 before it is ready stops the fleet in order instead of restarting", async () => {
  const fleet = fakeFleet({ proxies: "1", servers: "1" }, "load_balancer");
  expect(await fleet.watchdog.start()).toBe("failed");
  expect(fleet.lines).toContain("[Watchdog]: Load Balancer cannot start: see its error above. Stopping the fleet.");
  expect(fleet.lines.some((line) => line.includes("Fleet ready"))).toBe(false);
  expect(fleet.events().filter((e) => e.event !== "ctl").map((e) => `${e.event} ${e.role}`)).toEqual([
    "spawn server", "spawn reverse_proxy", "spawn load_balancer", "term server", "term reverse_proxy",
  ]);
}, 30_000);

test("--proxies 0: the load balancer routes to the servers itself (--flat)", async () => {
  const fleet = fakeFleet({ proxies: "0", servers: "2", "http-port": "8080" });
  expect(await fleet.watchdog.start()).toBe("ready");
  expect(fleet.lines.find((line) => line.includes("Fleet ready"))).toContain("1 load balancer, 0 reverse proxies, 2 servers.");
  expect(fleet.lines.find((line) => line.includes("Fleet ready"))).toEndWith("HTTP on http://127.0.0.1:8080");
  const lb = fleet.events().find((e) => e.role === "load_balancer")!;
  expect(lb.args).toContain("--flat");
  expect(flagOf(lb.args, "--upstreams")).toBe(`1=unix:${fleet.runDir}/server-1.sock,2=unix:${fleet.runDir}/server-2.sock`);
  await fleet.watchdog.shutdown();
}, 30_000);
