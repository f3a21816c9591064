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

/** `1=unix:/a.sock,2=tcp://10.0.0.2:7000`: the upstreams of a load balancer or proxy, numbered as in the logs. */
export function parseUpstreamList(flag: string, raw: string | undefined): NumberedAddress[] {
  if (raw === undefined || raw.trim() === "") throw new CliError(`${flag} needs at least one N=ADDRESS entry`);
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
