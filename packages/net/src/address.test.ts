import { describe, expect, test } from "bun:test";
import { type Address, formatAddress, parseAddress } from "./address.ts";
import { NetError } from "./errors.ts";

function badAddress(uri: string): NetError {
  let caught: unknown;
  try {
    parseAddress(uri);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(NetError);
  expect((caught as NetError).code).toBe("bad_address");
  return caught as NetError;
}

describe("parseAddress", () => {
  const good: [string, Address][] = [
    ["unix:/tmp/switchyard-1000/lb.sock", { kind: "unix", path: "/tmp/switchyard-1000/lb.sock" }],
    ["unix:///run/lb.sock", { kind: "unix", path: "/run/lb.sock" }],
    ["unix:relative.sock", { kind: "unix", path: "relative.sock" }],
    ["unix:/tmp/with space.sock", { kind: "unix", path: "/tmp/with space.sock" }],
    ["tcp://127.0.0.1:5000", { kind: "tcp", host: "127.0.0.1", port: 5000 }],
    ["tcp://localhost:1", { kind: "tcp", host: "localhost", port: 1 }],
    ["tcp://lb.example.com:65535", { kind: "tcp", host: "lb.example.com", port: 65535 }],
    ["tcp://127.0.0.1:5000/", { kind: "tcp", host: "127.0.0.1", port: 5000 }],
    ["tcp://[::1]:8080", { kind: "tcp", host: "::1", port: 8080 }],
    ["tcp://[fe80::1:2]:80", { kind: "tcp", host: "fe80::1:2", port: 80 }],
    ["tcp://[::ffff:127.0.0.1]:443", { kind: "tcp", host: "::ffff:127.0.0.1", port: 443 }],
    ["tcp://10.0.0.1:00080", { kind: "tcp", host: "10.0.0.1", port: 80 }],
  ];
  for (const [uri, address] of good) {
    test(`reads ${uri}`, () => {
      expect(parseAddress(uri)).toEqual(address);
    });
  }

  test("accepts a socket path of exactly 107 bytes and refuses 108 (sun_path holds 108 with the NUL)", () => {
    const path107 = `/${"a".repeat(106)}`;
    expect(parseAddress(`unix:${path107}`)).toEqual({ kind: "unix", path: path107 });
    expect(badAddress(`unix:/${"a".repeat(107)}`).message).toContain("longer than 107 bytes");
  });

  test("measures the path in bytes, not characters", () => {
    // 54 two-byte characters are 108 bytes although only 54 characters long.
    expect(badAddress(`unix:/${"é".repeat(54)}`).message).toContain("longer than 107 bytes");
  });

  const bad: [string, string, string][] = [
    ["an empty string", "", "is not an address"],
    ["a unix address without a path", "unix:", "has no socket path"],
    ["port 0", "tcp://127.0.0.1:0", "is not between 1 and 65535"],
    ["port 65536", "tcp://127.0.0.1:65536", "is not between 1 and 65535"],
    ["port 99999", "tcp://127.0.0.1:99999", "is not between 1 and 65535"],
    ["a six-digit port", "tcp://127.0.0.1:123456", "is not an address"],
    ["a negative port", "tcp://127.0.0.1:-1", "is not an address"],
    ["a non-numeric port", "tcp://127.0.0.1:http", "is not an address"],
    ["no port", "tcp://127.0.0.1", "is not an address"],
    ["an empty port", "tcp://127.0.0.1:", "is not an address"],
    ["no host", "tcp://:5000", "is not an address"],
    ["an unbracketed IPv6 host", "tcp://::1:5000", "is not an address"],
    ["an empty IPv6 bracket", "tcp://[]:5000", "is not an address"],
    ["a bracketed name that is not IPv6", "tcp://[zz]:5000", "is not an address"],
    ["an unclosed bracket", "tcp://[::1:5000", "is not an address"],
    ["an http URL", "http://127.0.0.1:5000", "is not an address"],
    ["a bare path", "/tmp/lb.sock", "is not an address"],
    ["a bare host:port", "127.0.0.1:5000", "is not an address"],
    ["a path after the port", "tcp://127.0.0.1:5000/x", "is not an address"],
    ["a host with whitespace", "tcp://a b:5000", "is not an address"],
    ["an uppercase scheme", "TCP://127.0.0.1:5000", "is not an address"],
  ];
  for (const [name, uri, reason] of bad) {
    test(`refuses ${name} with bad_address`, () => {
      const error = badAddress(uri);
      expect(error.message).toContain(reason);
      expect(error.retryable).toBe(false);
    });
  }
});

describe("formatAddress", () => {
  test("writes unix and tcp addresses as URIs, bracketing IPv6 hosts", () => {
    expect(formatAddress({ kind: "unix", path: "/run/lb.sock" })).toBe("unix:/run/lb.sock");
    expect(formatAddress({ kind: "tcp", host: "127.0.0.1", port: 5000 })).toBe("tcp://127.0.0.1:5000");
    expect(formatAddress({ kind: "tcp", host: "::1", port: 8080 })).toBe("tcp://[::1]:8080");
  });

  test("round-trips through parseAddress", () => {
    for (const uri of ["unix:/tmp/a.sock", "tcp://127.0.0.1:5000", "tcp://[::1]:8080", "tcp://lb.example.com:1"]) {
      expect(formatAddress(parseAddress(uri))).toBe(uri);
      const address = parseAddress(uri);
      expect(parseAddress(formatAddress(address))).toEqual(address);
    }
  });
});
