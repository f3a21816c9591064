import { describe, expect, test } from "bun:test";
import { NetError, type NetErrorCode, RequestError } from "./errors.ts";

describe("NetError.retryable", () => {
  // Retryable: the request failed on the way (or the upstream is leaving), so another upstream may take it.
  const table: [NetErrorCode, string | undefined, boolean][] = [
    ["unavailable", undefined, true],
    ["connection_lost", undefined, true],
    ["timeout", undefined, true],
    ["remote", "unavailable", true],
    ["remote", "shutting_down", true],
    ["remote", "overloaded", true],
    ["remote", "bad_request", false],
    ["remote", "internal", false],
    ["remote", undefined, false],
    ["closed", undefined, false],
    ["aborted", undefined, false],
    ["bad_address", undefined, false],
    ["address_in_use", undefined, false],
  ];
  for (const [code, remoteCode, retryable] of table) {
    test(`${code}${remoteCode ? `/${remoteCode}` : ""} → ${retryable}`, () => {
      expect(new NetError(code, "x", remoteCode).retryable).toBe(retryable);
    });
  }
});

test("NetError and RequestError are Errors that carry their codes", () => {
  const net = new NetError("remote", "slow down", "rate_limited");
  expect(net).toBeInstanceOf(Error);
  expect(net.name).toBe("NetError");
  expect([net.code, net.remoteCode, net.message]).toEqual(["remote", "rate_limited", "slow down"]);
  const req = new RequestError("bad_request", "value must be a number");
  expect(req).toBeInstanceOf(Error);
  expect(req.name).toBe("RequestError");
  expect([req.code, req.message]).toEqual(["bad_request", "value must be a number"]);
});
