import { expect, test } from "bun:test";
import { CliError } from "@switchyard/cli";
import { type WatchdogArgs, resolveWatchdogConfig } from "./config.ts";

const resolve = (args: WatchdogArgs) => resolveWatchdogConfig({ "run-dir": "/run/sy", ...args });

/** The CliError a bad flag gives: its message names the flag and it exits 64. */
function usageError(args: WatchdogArgs): string {
  try {
    resolve(args);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(64);
    return (error as CliError).message;
  }
  throw new Error("expected a usage error");
}

test("defaults: the seed's fleet, HTTP on 127.0.0.1:5000, no token, no external upstreams", () => {
  const config = resolve({});
  expect([config.proxies, config.servers, config.httpHost, config.httpPort]).toEqual([2, 3, "127.0.0.1", 5000]);
  expect([config.adminToken, config.externalUpstreams, config.healthPath]).toEqual([undefined, [], undefined]);
});

test("--proxies 0 (flat) and --servers 0 are allowed", () => {
  const config = resolve({ proxies: "0", servers: "0" });
  expect([config.proxies, config.servers]).toEqual([0, 0]);
  expect(usageError({ proxies: "65" })).toContain("--proxies");
  expect(usageError({ proxies: "4", servers: "300" })).toBe("--proxies 4 with --servers 300 is 1200 servers; at most 1024 are supported");
});

test("--http-port is an integer from 0 to 65535", () => {
  expect(resolve({ "http-port": "0" }).httpPort).toBe(0);
  expect(resolve({ "http-port": "65535" }).httpPort).toBe(65535);
  expect(resolve({ "http-port": "off" }).httpPort).toBeNull(); // as the load balancer takes it: no HTTP
  for (const bad of ["65536", "-1", "80.5", "http", ""]) expect(usageError({ "http-port": bad })).toContain("--http-port");
});

test("--http-host: a host name or address; an IPv6 address may be bracketed", () => {
  expect(resolve({ "http-host": "[::1]" }).httpHost).toBe("::1");
  expect(usageError({ "http-host": "http://x/" })).toContain("--http-host");
});

test("--upstream: one or many http://host:port URLs without a path", () => {
  expect(resolve({ upstream: "http://10.0.0.5:8080" }).externalUpstreams).toEqual(["http://10.0.0.5:8080"]);
  // Repeated flags reach the config joined by commas (runCli's `repeatable`).
  expect(resolve({ upstream: "http://api:8080/,http://[::1]:9000" }).externalUpstreams).toEqual(["http://api:8080", "http://[::1]:9000"]);
  for (const bad of ["https://api:443", "http://api:8080/v1", "api:8080", "http://api:0", "http://user@api:80", "http://api:80?x", "nonsense"]) {
    expect(usageError({ upstream: bad })).toStartWith("--upstream:");
  }
});

test("--health-path starts with /; --admin-token is 16 to 256 printable characters", () => {
  const token = "0123456789abcdef0123";
  expect(resolve({ "health-path": "/heartbeat", "admin-token": token })).toMatchObject({ healthPath: "/heartbeat", adminToken: token });
  expect(usageError({ "health-path": "heartbeat" })).toContain("--health-path");
  for (const bad of ["", "s3cret", "has a space in it, sixteen+"]) expect(usageError({ "admin-token": bad })).toContain("--admin-token");
});
