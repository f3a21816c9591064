import type { LruBounds } from "@switchyard/upstream";
import { CliError, type HopArgs, type HopConfig, fleetSocket, parseInteger, resolveHopConfig, resolveRunDir } from "@switchyard/cli";

/** Upstreams are this proxy's servers, numbered globally (Server #4 … #6 under Reverse Proxy #2). */
export interface ProxyConfig extends HopConfig {
  /** "Reverse Proxy #N". */
  id: number;
  /** --cache-entries / --cache-bytes: square roots answered from memory; undefined: off. */
  cache: LruBounds | undefined;
}

export interface ProxyArgs extends HopArgs {
  id?: string;
  "run-dir"?: string;
  "cache-entries"?: string;
  "cache-bytes"?: string;
}

/** Each cached square root counts this much against --cache-bytes: the map entry, its key and its number. */
export const CACHE_ENTRY_BYTES = 64;

export function resolveProxyConfig(args: ProxyArgs): ProxyConfig {
  if (args.id === undefined) throw new CliError("--id is required (the proxy's number, e.g. --id 1)");
  const id = parseInteger("--id", args.id, 1, 0xffff_ffff);
  const entries = args["cache-entries"] === undefined ? 0 : parseInteger("--cache-entries", args["cache-entries"], 0);
  if (entries === 0 && args["cache-bytes"] !== undefined) throw new CliError("--cache-bytes needs --cache-entries");
  const cache = entries === 0 ? undefined : { maxEntries: entries, maxBytes: args["cache-bytes"] === undefined ? 1024 * 1024 : parseInteger("--cache-bytes", args["cache-bytes"], CACHE_ENTRY_BYTES) };
  return { id, cache, ...resolveHopConfig(args, fleetSocket.proxy(resolveRunDir(args["run-dir"]), id), 5000, "random") };
}
