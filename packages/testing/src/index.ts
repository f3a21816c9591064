export { type Fleet, fleetPids, startFleet } from "./fleet.ts";
export { ROOT, Spawned, binary, killAllSpawned } from "./process.ts";
