export { type Fleet, type FleetOptions, fleetPids, startFleet } from "./fleet.ts";
export { type ClientRun, describeClient, freeTcpPort, isAlive, makeTempDir, pollUntil, removeTempDirs, runClient } from "./helpers.ts";
export { ROOT, Spawned, binary, killAllSpawned } from "./process.ts";
export { RawSocket } from "./raw-socket.ts";
export { type PromFamily, type PromSample, parsePrometheus, promSum } from "./prometheus.ts";
