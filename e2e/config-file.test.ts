// `--config switchyard.toml` through the compiled binaries: the watchdog reads its [watchdog] table
// and hands the file to every child, which reads its own; a flag given on the command line wins;
// a file that cannot be used stops the start with a message naming the key.
import { expect, test } from "bun:test";
import { Spawned, binary, makeTempDir } from "@switchyard/testing";
import { call, helloFrom } from "./_http.ts";
import { cleanUpAfterEach, configFile, fleetFor } from "./_support.ts";

cleanUpAfterEach();

const FLAT_STICKY = `
[watchdog]
proxies = 0
servers = 2
lb-policy = "consistent-hash"

[load_balancer]
# HTTP requests are routed on this header, so one client stays on one server.
http-key = "header:x-client"
`;

test("the watchdog's table shapes the fleet, the load balancer's table reaches the load balancer, and a flag wins over the file", async () => {
  const file = configFile(FLAT_STICKY);
  const fleet = await fleetFor(["--config", file, "--servers", "3"]);
  const base = fleet.httpUrl();

  // --servers 3 on the command line beat servers = 2; proxies = 0 came from the file (no proxies).
  const rep = await call(base, "GET", "/rep");
  expect((rep.json as { message: { N: number } }).message.N).toBe(3);
  expect(fleet.pidOf("reverse_proxy")).toBeUndefined();

  // http-key from [load_balancer]: every request of one client lands on one server.
  for (const client of ["alice", "bob", "carol"]) {
    const seen = new Set<number | undefined>();
    for (let i = 0; i < 8; i++) seen.add(helloFrom(await call(base, "GET", "/home", { headers: { "x-client": client } })));
    expect(seen.size).toBe(1);
  }
});

test("a value the watchdog refuses stops it at once (exit 78) naming the file's key", async () => {
  const file = configFile("[watchdog]\nservers = -1\n");
  const watchdog = new Spawned([binary("watchdog"), "--config", file, "--run-dir", makeTempDir(), "--http-port", "0"]);
  await watchdog.exited(20_000);
  expect(watchdog.proc.exitCode).toBe(78);
  expect(watchdog.output).toContain(`${file}: [watchdog] servers = -1: --servers`);
});

test("a key a child does not know stops the fleet before it serves, with the child's message", async () => {
  const file = configFile("[watchdog]\nproxies = 0\nservers = 1\n\n[load_balancer]\nnope = 1\n");
  const watchdog = new Spawned([binary("watchdog"), "--config", file, "--run-dir", makeTempDir(), "--http-port", "0"]);
  await watchdog.exited(30_000);
  expect(watchdog.proc.exitCode).toBe(1);
  expect(watchdog.output).toContain('[load_balancer] unknown key "nope"');
});
