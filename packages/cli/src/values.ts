import { type Address, parseAddress } from "@switchyard/net";
import { CliError } from "./errors.ts";

/** An integer flag within bounds, or a CliError naming the flag. */
export function parseInteger(flag: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer from ${min} to ${max}`;
    throw new CliError(`${flag} must be ${range}, got "${raw ?? ""}"`);
  }
  return value;
}

/** A non-negative number of milliseconds. */
export function parseMillis(flag: string, raw: string | undefined): number {
  const value = Number(raw);
  if (raw === undefined || raw.trim() === "" || !Number.isFinite(value) || value < 0) {
    throw new CliError(`${flag} must be a non-negative number of milliseconds, got "${raw ?? ""}"`);
  }
  return value;
}

export function parseAddressFlag(flag: string, raw: string | undefined): Address {
  if (raw === undefined || raw === "") throw new CliError(`${flag} needs an address (unix:/path.sock or tcp://host:port)`);
  try {
    return parseAddress(raw);
  } catch (error) {
    throw new CliError(`${flag}: ${(error as Error).message}`);
  }
}

export interface NumberedAddress {
  n: number;
  address: Address;
}

/**
 * `1=unix:/a.sock,2=tcp://10.0.0.2:7000`: the upstreams of a load balancer or proxy, numbered as in
 * the logs. An empty list is allowed (a tier that starts empty and gets members from /add).
 */
export function parseUpstreamList(flag: string, raw: string | undefined): NumberedAddress[] {
  if (raw === undefined) throw new CliError(`${flag} needs a list of N=ADDRESS entries`);
  if (raw.trim() === "") return [];
  const seen = new Set<number>();
  return raw.split(",").map((entry) => {
    const at = entry.indexOf("=");
    if (at < 0) throw new CliError(`${flag}: "${entry}" is not N=ADDRESS (for example 1=unix:/tmp/server-1.sock)`);
    const n = parseInteger(`${flag} number`, entry.slice(0, at), 1);
    if (seen.has(n)) throw new CliError(`${flag}: #${n} is listed twice`);
    seen.add(n);
    return { n, address: parseAddressFlag(flag, entry.slice(at + 1)) };
  });
}

/** An external upstream: `http://host:port` (an origin: no path, query or credentials), returned normalised. */
export function parseHttpUpstream(flag: string, raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new CliError(`${flag}: "${raw}" is not a URL (expected http://host:port)`);
  }
  if (url.protocol !== "http:") throw new CliError(`${flag}: "${raw}" must be an http:// URL (TLS to upstreams is not supported)`);
  if (url.port === "0") throw new CliError(`${flag}: "${raw}" needs a port from 1 to 65535`);
  if (url.username || url.password || (url.pathname !== "/" && url.pathname !== "") || url.search || url.hash) {
    throw new CliError(`${flag}: "${raw}" must be an origin, http://host:port, without a path, query or credentials`);
  }
  return url.origin;
}

/** The environment variable the load balancer reads its admin token from (argv is visible to every user in `ps`). */
export const ADMIN_TOKEN_ENV = "SWITCHYARD_ADMIN_TOKEN";

/** A bearer token for the admin API: 16 to 256 printable characters without spaces, or undefined. */
export function parseAdminToken(flag: string, raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!/^[\x21-\x7e]{16,256}$/.test(raw)) throw new CliError(`${flag} must be 16 to 256 printable characters without spaces (e.g. openssl rand -hex 24)`);
  return raw;
}

/**
 * What an HTTP request is routed on (the policy's key), chosen with --http-key:
 * - `request`: a random six-digit request id per request, as the request ids R of seeds/002;
 * - `address`: the client's address, so one client stays on one upstream (ip-hash's default);
 * - `header:NAME`: a header's value (a number is used as is, like a wire client's id; other text
 *   is hashed); a request without it gets a random id.
 */
export type HttpKeyRule = { kind: "request" } | { kind: "address" } | { kind: "header"; name: string };

export function parseHttpKey(flag: string, raw: string): HttpKeyRule {
  if (raw === "request" || raw === "address") return { kind: raw };
  const name = raw.startsWith("header:") ? raw.slice("header:".length).trim().toLowerCase() : "";
  if (/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) return { kind: "header", name };
  throw new CliError(`${flag} must be request, address or header:NAME, got "${raw}"`);
}
