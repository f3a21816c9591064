import { BlockList, isIP } from "node:net";
import { CliError } from "@switchyard/cli";

/** A set of client addresses given as CIDR blocks or single addresses, IPv4 and IPv6 (node:net's BlockList). */
export interface AddressList {
  has(address: string): boolean;
  readonly size: number;
}

/**
 * Parses `10.0.0.0/8`, `192.168.1.7`, `::1`, `fd00::/8` (comma-separated, as repeated flags arrive).
 * An IPv4 client seen as IPv4-mapped IPv6 (`::ffff:10.1.2.3`) matches its IPv4 block.
 */
export function parseAddressList(flag: string, raw: string | undefined): AddressList | undefined {
  if (raw === undefined) return undefined;
  const list = new BlockList();
  const entries = raw.split(",").map((entry) => entry.trim());
  for (const entry of entries) {
    const [address = "", bits, ...rest] = entry.split("/");
    const family = isIP(address);
    const max = family === 4 ? 32 : 128;
    const prefix = bits === undefined ? max : Number(bits);
    if (family === 0 || rest.length > 0 || (bits !== undefined && !/^\d{1,3}$/.test(bits)) || prefix > max) {
      throw new CliError(`${flag} takes IP addresses or CIDR blocks such as 10.0.0.0/8 or fd00::/8, got "${entry}"`);
    }
    list.addSubnet(address, prefix, family === 4 ? "ipv4" : "ipv6");
  }
  return {
    size: entries.length,
    has(address) {
      const family = isIP(address);
      return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
    },
  };
}
