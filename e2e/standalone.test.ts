// Each binary started by hand with its addresses as flags, no watchdog (DESIGN §1): Unix sockets in
// a temp dir, and hops over TCP on 127.0.0.1.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { Spawned, binary, freeTcpPort, makeTempDir, runClient } from "@switchyard/testing";
import { cleanUpAfterEach } from "./_support.ts";

cleanUpAfterEach();

/** Starts one binary and waits for its "Started" line. */
async function startMember(name: "server" | "reverse_proxy" | "load_balancer", args: string[], dir: string): Promise<Spawned> {
  const member = new Spawned([binary(name), ...args, "--run-dir", dir]);
  await member.waitForLine(/\]: Started\b/, 20_000);
  return member;
}

/** SIGTERM, then: exit 0 and a line saying it received SIGTERM and is terminating (not "from watchdog": there is none). */
async function expectStopsOnSigterm(member: Spawned, role: string): Promise<void> {
  member.kill("SIGTERM");
  expect(await member.exited(20_000)).toBe(0);
  const line = member.lines.find((l) => l.includes("SIGTERM"));
  expect(line).toBe(`[${role}]: Received SIGTERM. Terminating.`);
}

describe("a fleet assembled by hand", () => {
  test(
    "servers, proxies and a load balancer over Unix sockets and TCP answer a client; SIGTERM stops each with exit 0",
    async () => {
      const dir = makeTempDir();
      const unix = (name: string) => `unix:${join(dir, name)}`;
      const tcp = () => `tcp://127.0.0.1:${freeTcpPort()}`;

      // Proxy #1 owns Servers #1 (Unix) and #2 (TCP); Proxy #2 (reached over TCP) owns Server #3 (Unix).
      const s1 = unix("s1.sock");
      const s2 = tcp();
      const s3 = unix("s3.sock");
      const p1 = unix("p1.sock");
      const p2 = tcp();
      const lb = unix("lb.sock");
      const servers = await Promise.all([
        startMember("server", ["--id", "1", "--listen", s1], dir),
        startMember("server", ["--id", "2", "--listen", s2], dir),
        startMember("server", ["--id", "3", "--listen", s3], dir),
      ]);
      const proxies = await Promise.all([
        startMember("reverse_proxy", ["--id", "1", "--listen", p1, "--upstreams", `1=${s1},2=${s2}`], dir),
        startMember("reverse_proxy", ["--id", "2", "--listen", p2, "--upstreams", `3=${s3}`], dir),
      ]);
      const balancer = await startMember("load_balancer", ["--listen", lb, "--upstreams", `1=${p1},2=${p2}`, "--http-port", "0"], dir);

      // Odd clients through Proxy #1 (Unix), even ones through Proxy #2 (TCP); several odd ones so both of Proxy #1's servers are likely used.
      const ids = [1, 2, 3, 4, 5, 7, 9, 11];
      const runs = await Promise.all(ids.map((id) => runClient([String(id), "--value", String(id * id), "--connect", lb])));
      expect(runs.map((r) => [r.code, r.result])).toEqual(ids.map((id) => [0, `${id}.0`]));

      // Each hop logged its part in its own output.
      await balancer.waitForLine("[Load Balancer]: Request from Client #2. Forwarding to Proxy #2");
      await proxies[1]!.waitForLine("[Reverse Proxy #2]: Request from Client #2. Forwarding to Server #3");
      await servers[2]!.waitForLine("[Server #3]: Received the value 4 from Client #2. Returning 2.0.");
      await balancer.waitForLine("[Load Balancer]: Request from Client #1. Forwarding to Proxy #1");
      await proxies[0]!.waitForLine(/^\[Reverse Proxy #1\]: Request from Client #1\. Forwarding to Server #[12]$/);

      // Stop them in the watchdog's order; each says so and exits 0.
      for (const [k, server] of servers.entries()) await expectStopsOnSigterm(server, `Server #${k + 1}`);
      for (const [k, proxy] of proxies.entries()) await expectStopsOnSigterm(proxy, `Reverse Proxy #${k + 1}`);
      await expectStopsOnSigterm(balancer, "Load Balancer");
    },
    90_000,
  );

  test("a chain of one each, the server over TCP with --work-ms: the client gets 2.5 for 6.25", async () => {
    const dir = makeTempDir();
    const server = `tcp://127.0.0.1:${freeTcpPort()}`;
    const s = await startMember("server", ["--id", "9", "--listen", server, "--work-ms", "5"], dir);
    const p = await startMember("reverse_proxy", ["--id", "4", "--listen", `unix:${join(dir, "p.sock")}`, "--upstreams", `9=${server}`], dir);
    const lb = await startMember("load_balancer", ["--listen", `unix:${join(dir, "lb.sock")}`, "--upstreams", `4=unix:${join(dir, "p.sock")}`], dir);
    const run = await runClient(["8", "--value", "6.25", "--connect", `unix:${join(dir, "lb.sock")}`]);
    expect([run.code, run.result]).toEqual([0, "2.5"]);
    await lb.waitForLine("[Load Balancer]: Request from Client #8. Forwarding to Proxy #4");
    await p.waitForLine("[Reverse Proxy #4]: Request from Client #8. Forwarding to Server #9");
    await s.waitForLine("[Server #9]: Received the value 6.25 from Client #8. Returning 2.5.");
  });
});

describe("failover without a watchdog", () => {
  test("the load balancer sends an even client to Proxy #1 when Proxy #2 cannot be reached, and the client gets its answer", async () => {
    const dir = makeTempDir();
    const s1 = `unix:${join(dir, "s1.sock")}`;
    const p1 = `unix:${join(dir, "p1.sock")}`;
    await startMember("server", ["--id", "1", "--listen", s1], dir);
    await startMember("reverse_proxy", ["--id", "1", "--listen", p1, "--upstreams", `1=${s1}`], dir);
    // Proxy #2 is listed but never started.
    const balancer = await startMember("load_balancer", ["--listen", `unix:${join(dir, "lb.sock")}`, "--upstreams", `1=${p1},2=unix:${join(dir, "p2.sock")}`], dir);

    const run = await runClient(["2", "--value", "9", "--connect", `unix:${join(dir, "lb.sock")}`]);
    expect([run.code, run.result]).toEqual([0, "3.0"]);
    // It says where client 2 went instead.
    await balancer.waitForLine(/Client #2\b.*Proxy #1/);
  });

  test("a proxy one of whose servers cannot be reached still answers every client through the other", async () => {
    const dir = makeTempDir();
    const s1 = `unix:${join(dir, "s1.sock")}`;
    await startMember("server", ["--id", "1", "--listen", s1], dir);
    await startMember(
      "reverse_proxy",
      ["--id", "1", "--listen", `unix:${join(dir, "p1.sock")}`, "--upstreams", `1=${s1},2=unix:${join(dir, "missing.sock")}`],
      dir,
    );
    await startMember("load_balancer", ["--listen", `unix:${join(dir, "lb.sock")}`, "--upstreams", `1=unix:${join(dir, "p1.sock")}`], dir);
    const runs = await Promise.all([1, 3, 5, 7, 9].map((id) => runClient([String(id), "--value", "36", "--connect", `unix:${join(dir, "lb.sock")}`])));
    expect(runs.map((r) => [r.code, r.result])).toEqual(Array.from({ length: 5 }, () => [0, "6.0"]));
  });
});
