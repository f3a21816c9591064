import { expect, test } from "bun:test";
import { DASHBOARD_HELPERS_JS, DASHBOARD_HTML } from "./page.ts";

interface Proc { role: string; n: number; name: string; pid: number | null; state: string; restarts: number; requests: number; proxy: number | null }
interface Snap { time: number; topology: string; processes: Proc[]; http: { requests: number }; wire: { requests: number } }
type Rates = Record<string, number | null>;
interface Helpers {
  escapeHtml(value: unknown): string;
  processRates(prev: Snap | null, cur: Snap): Rates;
  extendHistory(history: { time: number; rate: number }[], prev: Snap | null, cur: Snap): { time: number; rate: number }[];
  buildTree(snap: Snap): { count: number; groups: { servers: Proc[] }[]; direct: Proc[] };
  treeHtml(tree: unknown, rates: Rates): string;
  serverLoad(servers: Proc[], rates: Rates): { unit: string; max: number };
  graphSvg(history: { time: number; rate: number }[], now: number): string;
  recentEvents(events: { time: number; text: string }[], limit: number): { text: string }[];
  leaderLabel(snap: Snap & { rooms: { leader: number | null } }): string;
}

// The helpers are plain browser JS; evaluate them on their own (they touch no DOM).
const helpers = new Function(
  `${DASHBOARD_HELPERS_JS}\nreturn { escapeHtml, processRates, extendHistory, buildTree, treeHtml, serverLoad, graphSvg, recentEvents, leaderLabel };`,
)() as Helpers;

const proc = (role: string, n: number, requests: number, proxy: number | null = null, name = `${role} ${n}`): Proc =>
  ({ role, n, name, pid: 100 + n, state: "up", restarts: 0, requests, proxy });
const snapshot = (time: number, serverRequests: number[], topology = "two-tier"): Snap => ({
  time,
  topology,
  processes: [
    proc("watchdog", 0, 0),
    proc("load_balancer", 0, 10),
    ...(topology === "flat" ? [] : [proc("reverse_proxy", 1, 5)]),
    ...serverRequests.map((r, i) => proc("server", i + 1, r, topology === "flat" ? 0 : 1, i === 0 ? "<img onerror=x>" : `Server ${i + 1}`)),
  ],
  http: { requests: 100 + serverRequests.reduce((a, b) => a + b, 0) },
  wire: { requests: 0 },
});

test("the document is self-contained: no URLs to other origins, a title, /stats and /events", () => {
  expect(DASHBOARD_HTML).not.toMatch(/https?:\/\//i);
  expect(DASHBOARD_HTML).not.toMatch(/<script[^>]*\ssrc\s*=/i);
  expect(DASHBOARD_HTML).not.toMatch(/<link[^>]*\shref\s*=\s*"(?!data:)/i); // the icon is inline, so the browser asks the fleet for no /favicon.ico
  expect(DASHBOARD_HTML).not.toMatch(/(src|href|action)\s*=\s*["']?\/\//i);
  expect(DASHBOARD_HTML).toMatch(/<title>[^<]+<\/title>/);
  expect(DASHBOARD_HTML).toContain('"/stats"');
  expect(DASHBOARD_HTML).toContain('"/events"');
  expect(DASHBOARD_HTML).toContain('data-testid="process-count"');
  const scripts = [...DASHBOARD_HTML.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  expect(scripts.length).toBe(1);
  expect(() => new Function(scripts[0]![1]!)).not.toThrow(); // parses (not run: it needs a DOM)
});

test("rates come from counter differences over time; the first snapshot has none", () => {
  const a = snapshot(1_000, [10, 20]);
  const b = snapshot(3_000, [30, 20]);
  expect(helpers.processRates(null, a)["server-1"]).toBeNull();
  const rates = helpers.processRates(a, b);
  expect(rates["server-1"]).toBe(10);
  expect(rates["server-2"]).toBe(0);
  expect(helpers.serverLoad(helpers.buildTree(b).direct, rates).unit).toBe("total requests");
  const history = helpers.extendHistory(helpers.extendHistory([], null, a), a, b);
  expect(history).toEqual([{ time: 3_000, rate: 10 }]);
  expect(helpers.extendHistory(history, b, snapshot(3_000 + 5 * 60_000 + 1, [30, 20]))).toEqual([{ time: 3_000 + 5 * 60_000 + 1, rate: 0 }]);
  expect(helpers.graphSvg(history, 3_000)).toContain(">req/s</text>");
  expect(helpers.recentEvents([{ time: 1, text: "a" }, { time: 2, text: "b" }, { time: 2, text: "c" }], 2).map((e) => e.text)).toEqual(["c", "b"]);
});

test("the tree carries test ids and states, counts every process and escapes names", () => {
  const twoTier = helpers.buildTree(snapshot(1, [1, 2, 3]));
  expect(twoTier.count).toBe(6);
  expect(twoTier.groups[0]!.servers.length).toBe(3);
  const html = helpers.treeHtml(twoTier, {});
  for (const id of ["watchdog-0", "load_balancer-0", "reverse_proxy-1", "server-1", "server-3"]) expect(html).toContain(`data-testid="proc-${id}" data-state="up"`);
  expect(html).toContain("watchdog 0 (pid 100)");
  expect(html).not.toContain("<img");
  expect(html).toContain("&lt;img onerror=x&gt;");
  const flat = helpers.buildTree(snapshot(1, Array.from({ length: 60 }, () => 0), "flat"));
  expect([flat.count, flat.direct.length, flat.groups.length]).toEqual([62, 60, 0]);
  expect(helpers.escapeHtml(`"'&`)).toBe("&quot;&#39;&amp;");
});

test("the rooms leader is named by its server, the pid beside it (the election names pids)", () => {
  const snap = snapshot(1_000, [1, 2]);
  expect(helpers.leaderLabel({ ...snap, rooms: { leader: 102 } })).toBe("Server 2, pid 102");
  expect(helpers.leaderLabel({ ...snap, rooms: { leader: 999 } })).toBe("pid 999");
  expect(helpers.leaderLabel({ ...snap, rooms: { leader: null } })).toBe("no leader");
});
