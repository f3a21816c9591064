export { type LogOptions, commonArgs, resolveLogOptions } from "./common-args.ts";
export { CliError } from "./errors.ts";
export { type Lifeline, attachToWatchdog, onShutdown } from "./lifecycle.ts";
export { ensureRunDir, fleetSocket, resolveRunDir } from "./run-dir.ts";
export { type Cli, VERSION, runCli } from "./run.ts";
export { type NumberedAddress, parseAddressFlag, parseInteger, parseMillis, parseUpstreamList } from "./values.ts";
export { formatFloat } from "./format.ts";
export { type Drainable, type RoleOptions, runRole } from "./supervise.ts";
export { type HealthArgs, type HopArgs, type HopConfig, POLICY_NAMES, checkPolicy, healthArgs, healthFlags, hopArgs, resolveHealth, resolveHopConfig } from "./hop-config.ts";
