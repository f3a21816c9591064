import { CliError, type HopArgs, type HopConfig, fleetSocket, parseInteger, resolveHopConfig, resolveRunDir } from "@switchyard/cli";

/** Upstreams are this proxy's servers, numbered globally (Server #4 … #6 under Reverse Proxy #2). */
export interface ProxyConfig extends HopConfig {
  /** "Reverse Proxy #N". */
  id: number;
}

export interface ProxyArgs extends HopArgs {
  id?: string;
  "run-dir"?: string;
}

export function resolveProxyConfig(args: ProxyArgs): ProxyConfig {
  if (args.id === undefined) throw new CliError("--id is required (the proxy's number, e.g. --id 1)");
  const id = parseInteger("--id", args.id, 1, 0xffff_ffff);
  return { id, ...resolveHopConfig(args, fleetSocket.proxy(resolveRunDir(args["run-dir"]), id), 5000, "random") };
}
