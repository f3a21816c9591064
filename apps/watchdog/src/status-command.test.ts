import { expect, test } from "bun:test";
import type { FleetStatus } from "./status.ts";
import { duration, renderStatus } from "./status-command.ts";

const base = { restarts: 0, uptimeSeconds: 75, memoryBytes: 50 * 1024 * 1024, requests: 12, errors: 0, inflight: 0, proxy: null, address: null };
const status: FleetStatus = {
  time: 0,
  topology: "two-tier",
  processes: [
    { ...base, role: "watchdog", n: 0, name: "Watchdog", pid: 10, state: "up" },
    { ...base, role: "server", n: 3, name: "Server 3", pid: null, state: "down", restarts: 2, uptimeSeconds: null, memoryBytes: null, proxy: 1 },
    { ...base, role: "load_balancer", n: 0, name: "Load Balancer", pid: 12, state: "up" },
  ],
  rooms: { leader: 41220, epoch: 3 },
  events: [{ time: Date.UTC(2026, 0, 1, 9, 30, 5), kind: "death", text: "Server #3 has died" }],
};

test("watchdog status: a pm2-like table with every process, then the rooms leader and the last events", () => {
  const lines = renderStatus(status).split("\n");
  expect(lines[0]).toMatch(/^role\s+n\s+name\s+pid\s+state\s+restarts\s+uptime\s+requests\s+errors\s+memory$/);
  expect(lines[2]).toMatch(/^watchdog\s+0\s+Watchdog\s+10\s+up\s+0\s+1m15s\s+12\s+0\s+50\.0 MiB$/);
  expect(lines[3]).toMatch(/^server\s+3\s+Server 3\s+–\s+down\s+2\s+–\s+12\s+0\s+–$/);
  expect(lines[4]).toMatch(/^load balancer\s+0\s+Load Balancer\s+12\s+up/);
  expect(lines).toContain("Rooms group: leader 41220 (epoch 3)");
  expect(lines).toContain("  09:30:05  Server #3 has died");
});

test("uptimes read like pm2's", () => {
  expect([duration(null), duration(42.9), duration(185), duration(7800), duration(3 * 86_400 + 4 * 3600)]).toEqual(["–", "42s", "3m05s", "2h10m", "3d04h"]);
});
