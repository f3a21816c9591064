/**
 * The live dashboard served at `GET /dashboard`: one self-contained HTML document (inline CSS and JS, no
 * external URLs, works offline). It reads `GET /stats` once, then follows `GET /events` (server-sent events
 * carrying the same JSON snapshot about once a second) and draws the process tree, the per-server load, the
 * load balancer's request rate over the last five minutes, the rooms leader and the recent lifecycle events.
 *
 * The browser code is plain JS inside strings, so it is not type-checked: the pure helpers (no DOM access)
 * live in `DASHBOARD_HELPERS_JS`, which page.test.ts evaluates and exercises on its own.
 *
 * Both script strings are `String.raw` templates: they must not contain a backtick, a dollar sign followed by
 * a brace, or a closing script tag.
 */

/** Pure browser helpers: snapshot arithmetic and HTML/SVG string builders. Defines functions only. */
export const DASHBOARD_HELPERS_JS = String.raw`
const HISTORY_WINDOW_MS = 5 * 60 * 1000; // the rate graph shows the last five minutes
const HISTORY_GAP_MS = 5000;             // a longer silence (lost connection) breaks the rate line
const DASH = "\u2013";
const STATE_CLASSES = { up: "st-up", starting: "st-starting", restarting: "st-restarting", down: "st-down" };
const KIND_CLASSES = {
  death: "st-down", respawn: "st-restarting", election: "st-starting",
  add: "st-up", start: "st-up", rm: "st-idle", stop: "st-idle",
};

/** Text made safe for HTML element content and quoted attribute values (names come from users via /add). */
function escapeHtml(value) {
  return String(value == null ? "" : value)
    .replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Colour class of a process state; stopping, draining and anything unknown are grey. */
function stateClass(state) {
  return Object.prototype.hasOwnProperty.call(STATE_CLASSES, state) ? STATE_CLASSES[state] : "st-idle";
}

/** Colour class of a lifecycle event kind. */
function kindClass(kind) {
  return Object.prototype.hasOwnProperty.call(KIND_CLASSES, kind) ? KIND_CLASSES[kind] : "st-idle";
}

/** Identity of a process across snapshots (also the tail of its data-testid). */
function procKey(p) {
  return p.role + "-" + p.n;
}

/** Per-second rate of a counter between two readings; null when unknown (no earlier reading, no time passed, counter reset). */
function ratePerSecond(before, after, beforeTime, afterTime) {
  if (typeof before !== "number" || typeof after !== "number") return null;
  const dt = afterTime - beforeTime;
  if (!(dt > 0) || after < before) return null;
  return ((after - before) * 1000) / dt;
}

/** procKey -> requests per second (or null) for every process of cur, against the previous snapshot. */
function processRates(prev, cur) {
  const before = new Map();
  if (prev) for (const p of prev.processes) before.set(procKey(p), p.requests);
  const rates = {};
  for (const p of cur.processes) {
    rates[procKey(p)] = prev ? ratePerSecond(before.get(procKey(p)), p.requests, prev.time, cur.time) : null;
  }
  return rates;
}

/** The rooms leader as people know it: the server whose pid the election named ("S7, pid 29217"), or the pid alone. */
function leaderLabel(snap) {
  const leader = snap.rooms.leader;
  if (leader === null || leader === undefined) return "no leader";
  const server = snap.processes.find((p) => p.role === "server" && p.pid === leader);
  return server ? server.name + ", pid " + leader : "pid " + leader;
}

/** Everything the load balancer has answered: HTTP plus wire protocol requests. */
function totalRequests(snap) {
  return (snap.http ? snap.http.requests : 0) + (snap.wire ? snap.wire.requests : 0);
}

/** A new history: the load balancer's req/s between prev and cur appended, points older than the window dropped. */
function extendHistory(history, prev, cur) {
  const next = history.slice();
  if (prev) {
    const rate = ratePerSecond(totalRequests(prev), totalRequests(cur), prev.time, cur.time);
    if (rate !== null) next.push({ time: cur.time, rate: rate });
  }
  const cutoff = cur.time - HISTORY_WINDOW_MS;
  return next.filter((point) => point.time >= cutoff);
}

/** A snapshot's processes arranged as the page's tree (each level sorted by process number). */
function buildTree(snap) {
  const byRole = { watchdog: [], load_balancer: [], reverse_proxy: [], server: [] };
  for (const p of snap.processes) if (Object.prototype.hasOwnProperty.call(byRole, p.role)) byRole[p.role].push(p);
  for (const list of Object.values(byRole)) list.sort((a, b) => a.n - b.n);
  const proxies = byRole.reverse_proxy;
  const groups = proxies.map((proxy) => ({ proxy: proxy, servers: byRole.server.filter((s) => s.proxy === proxy.n) }));
  // Servers of the flat topology (proxy 0), or of a proxy not listed, hang off the load balancer directly.
  const direct = byRole.server.filter((s) => !proxies.some((proxy) => proxy.n === s.proxy));
  const count = byRole.watchdog.length + byRole.load_balancer.length + proxies.length + byRole.server.length;
  return { watchdog: byRole.watchdog, balancer: byRole.load_balancer, groups: groups, direct: direct, servers: byRole.server, count: count };
}

/** "12.3" / "240" req/s, or a dash while unknown. */
function formatRate(rate) {
  if (rate === null || rate === undefined) return DASH;
  return rate < 10 ? rate.toFixed(1) : String(Math.round(rate));
}

function formatBytes(bytes) {
  return typeof bytes === "number" ? (bytes / (1024 * 1024)).toFixed(0) + " MiB" : DASH;
}

function formatUptime(seconds) {
  if (typeof seconds !== "number") return DASH;
  const s = Math.floor(seconds);
  if (s < 60) return s + "s";
  if (s < 3600) return Math.floor(s / 60) + "m " + (s % 60) + "s";
  return Math.floor(s / 3600) + "h " + Math.floor((s % 3600) / 60) + "m";
}

/** Local wall-clock time HH:MM:SS of an epoch-milliseconds instant. */
function formatClock(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((v) => String(v).padStart(2, "0")).join(":");
}

/** One process box; carries data-testid="proc-<role>-<n>" and data-state for browser tests. */
function procBox(p, rate) {
  const pid = p.pid === null || p.pid === undefined ? DASH : String(p.pid);
  const isWatchdog = p.role === "watchdog";
  const title = isWatchdog ? p.name + " (pid " + pid + ")" : p.name;
  const details = "uptime " + formatUptime(p.uptimeSeconds) + " \u00b7 memory " + formatBytes(p.memoryBytes) +
    " \u00b7 requests " + p.requests + " \u00b7 errors " + p.errors + " \u00b7 in flight " + p.inflight;
  return '<div class="proc ' + stateClass(p.state) + '" data-testid="proc-' + escapeHtml(procKey(p)) +
    '" data-state="' + escapeHtml(p.state) + '" title="' + escapeHtml(title + "\n" + details) + '">' +
    '<div class="pname">' + escapeHtml(title) + "</div>" +
    '<div class="prow"><span>' + (isWatchdog ? "up " + formatUptime(p.uptimeSeconds) : "pid " + pid) + "</span>" +
    '<span class="pstate">' + escapeHtml(p.state) + "</span></div>" +
    '<div class="prow"><span title="restarts">\u21bb ' + escapeHtml(p.restarts) + "</span>" +
    "<span>" + formatRate(rate) + " req/s</span></div></div>";
}

/** The whole topology tree: watchdog, load balancer, then one branch per reverse proxy (or the servers directly). */
function treeHtml(tree, rates) {
  const box = (p) => procBox(p, rates[procKey(p)]);
  // Past a dozen servers the boxes shrink so 60 of them still fit on a screen.
  const gridClass = tree.servers.length > 12 ? "servers compact" : "servers";
  const grid = (servers) => servers.length
    ? '<div class="' + gridClass + '">' + servers.map(box).join("") + "</div>"
    : '<div class="' + gridClass + ' none">no servers</div>';
  let html = "";
  if (tree.watchdog.length) html += '<div class="tier">' + tree.watchdog.map(box).join("") + '</div><div class="link"></div>';
  html += '<div class="tier">' + tree.balancer.map(box).join("") + "</div>";
  const branches = tree.groups.map((g) => '<div class="branch">' + box(g.proxy) + grid(g.servers) + "</div>");
  if (tree.direct.length) branches.push('<div class="branch direct">' + grid(tree.direct) + "</div>");
  if (branches.length) html += '<div class="link"></div><div class="branches">' + branches.join("") + "</div>";
  return html;
}

/** Bar values per server: req/s, or total requests when no server has a positive rate (yet). */
function serverLoad(servers, rates) {
  const byRate = servers.some((s) => (rates[procKey(s)] || 0) > 0);
  const items = servers.map((s) => ({
    key: procKey(s), name: s.name, state: s.state,
    value: byRate ? rates[procKey(s)] || 0 : s.requests,
  }));
  const max = items.reduce((m, item) => Math.max(m, item.value), 0);
  return { unit: byRate ? "req/s" : "total requests", max: max, items: items };
}

/** Horizontal bars, one per server; dense (thin) rows past 16 servers. */
function barsHtml(load) {
  if (!load.items.length) return '<p class="muted">no servers</p>';
  const rowClass = load.items.length > 16 ? "bar dense " : "bar ";
  return load.items.map((item) => {
    const percent = load.max > 0 ? (100 * item.value) / load.max : 0;
    const value = load.unit === "req/s" ? formatRate(item.value) : String(item.value);
    return '<div class="' + rowClass + stateClass(item.state) + '" data-testid="bar-' + escapeHtml(item.key) + '">' +
      '<span class="blabel" title="' + escapeHtml(item.name) + '">' + escapeHtml(item.name) + "</span>" +
      '<span class="btrack"><span class="bfill" style="width:' + percent.toFixed(1) + '%"></span></span>' +
      '<span class="bvalue">' + value + "</span></div>";
  }).join("");
}

/** The smallest of 1, 2, 5 times a power of ten that is at least v (an axis maximum); 1 for nothing. */
function niceCeiling(v) {
  if (!(v > 0)) return 1;
  const power = Math.pow(10, Math.floor(Math.log10(v)));
  for (const step of [1, 2, 5]) if (step * power >= v) return step * power;
  return 10 * power;
}

/** Axis tick text: "0", "2.5", "500", "2k". */
function formatAxis(v) {
  return v >= 1000 ? Number((v / 1000).toFixed(1)) + "k" : String(Number(v.toFixed(2)));
}

/** SVG path data of the rate history in a w x h box whose right edge is now; long gaps start a new segment. */
function ratePath(history, now, w, h, yMax) {
  const parts = [];
  let lastTime = null;
  for (const point of history) {
    const x = w * (1 - (now - point.time) / HISTORY_WINDOW_MS);
    const y = h * (1 - Math.min(point.rate / yMax, 1));
    const move = lastTime === null || point.time - lastTime > HISTORY_GAP_MS;
    parts.push((move ? "M" : "L") + x.toFixed(1) + " " + y.toFixed(1));
    lastTime = point.time;
  }
  return parts.join(" ");
}

/** The request-rate line graph (inline SVG, no namespace URL needed inside HTML) with "req/s" and "time" axes. */
function graphSvg(history, now) {
  const W = 600, H = 220, left = 52, right = 14, top = 10, bottom = 38;
  const w = W - left - right, h = H - top - bottom;
  const yMax = niceCeiling(history.reduce((m, point) => Math.max(m, point.rate), 0));
  let s = '<svg viewBox="0 0 ' + W + " " + H + '" role="img" aria-label="load balancer requests per second, last 5 minutes">' +
    '<g transform="translate(' + left + "," + top + ')">';
  for (const f of [0, 0.5, 1]) {
    const y = (h * (1 - f)).toFixed(1);
    s += '<line class="grid" x1="0" x2="' + w + '" y1="' + y + '" y2="' + y + '"/>' +
      '<text class="tick" x="-6" y="' + y + '" dy="4" text-anchor="end">' + formatAxis(yMax * f) + "</text>";
  }
  for (let m = 5; m >= 0; m--) {
    const x = (w * (1 - m / 5)).toFixed(1);
    s += '<line class="axisline" x1="' + x + '" x2="' + x + '" y1="' + h + '" y2="' + (h + 4) + '"/>' +
      '<text class="tick" x="' + x + '" y="' + (h + 16) + '" text-anchor="middle">' + (m ? "-" + m + "m" : "now") + "</text>";
  }
  s += '<line class="axisline" x1="0" x2="0" y1="0" y2="' + h + '"/>' +
    '<line class="axisline" x1="0" x2="' + w + '" y1="' + h + '" y2="' + h + '"/>' +
    '<path class="rate" d="' + ratePath(history, now, w, h, yMax) + '"/>' +
    '<text class="axis" transform="translate(-40,' + h / 2 + ') rotate(-90)" text-anchor="middle">req/s</text>' +
    '<text class="axis" x="' + w / 2 + '" y="' + (h + 33) + '" text-anchor="middle">time</text>';
  if (history.length < 2) s += '<text class="tick" x="' + w / 2 + '" y="' + h / 2 + '" text-anchor="middle">collecting data\u2026</text>';
  return s + "</g></svg>";
}

/** Newest first, at most limit; among equal times the later entry of the list counts as newer. */
function recentEvents(events, limit) {
  return events.slice().reverse().sort((a, b) => b.time - a.time).slice(0, limit);
}

function eventsHtml(events) {
  if (!events.length) return '<li class="muted">no events yet</li>';
  return events.map((e) =>
    "<li><time>" + formatClock(e.time) + '</time><span class="kind ' + kindClass(e.kind) + '">' + escapeHtml(e.kind) +
    '</span><span class="etext">' + escapeHtml(e.text) + "</span></li>").join("");
}

/** Parsed snapshot with defaults for optional parts, or null when the data is not a snapshot. */
function parseSnapshot(text) {
  let snap;
  try {
    snap = JSON.parse(text);
  } catch (_) {
    return null;
  }
  if (!snap || typeof snap.time !== "number" || !Array.isArray(snap.processes)) return null;
  snap.events = Array.isArray(snap.events) ? snap.events : [];
  snap.rooms = snap.rooms || { leader: null, epoch: 0 };
  return snap;
}
`;

/** Browser wiring: state, DOM updates and the /stats + /events connection. Uses the helpers above. */
const DASHBOARD_APP_JS = String.raw`
const view = { snap: null, rates: {}, history: [] };
const byId = (id) => document.getElementById(id);

/** Takes in one snapshot: updates rates and history against the previous one, then redraws. */
function onSnapshot(snap) {
  if (view.snap && snap.time <= view.snap.time) return; // a repeat or out of order
  view.rates = processRates(view.snap, snap);
  view.history = extendHistory(view.history, view.snap, snap);
  view.snap = snap;
  render();
}

function render() {
  const snap = view.snap;
  const tree = buildTree(snap);
  byId("topology").textContent = snap.topology;
  byId("updated").textContent = formatClock(snap.time);
  byId("process-count").textContent = String(tree.count);
  byId("tree").innerHTML = treeHtml(tree, view.rates);
  const load = serverLoad(tree.servers, view.rates);
  byId("bars-unit").textContent = load.unit;
  byId("bars").innerHTML = barsHtml(load); // the scrolling container itself stays, so its scroll position does too
  const last = view.history[view.history.length - 1];
  byId("rate-now").textContent = last && last.time === snap.time ? formatRate(last.rate) + " req/s" : DASH;
  byId("rate-graph").innerHTML = graphSvg(view.history, snap.time);
  byId("rooms-leader").textContent = leaderLabel(snap);
  byId("rooms-epoch").textContent = String(snap.rooms.epoch);
  byId("events").innerHTML = eventsHtml(recentEvents(snap.events, 20));
}

/** The connection badge: "connecting", "live" or "reconnecting". */
function setConnection(status) {
  const badge = byId("connection");
  badge.className = "badge " + (status === "live" ? "st-up" : status === "reconnecting" ? "st-restarting" : "st-starting");
  badge.dataset.status = status;
  badge.textContent = status === "live" ? "live" : status + "\u2026";
}

/** Follows /events; the browser reconnects by itself, the last view stays up meanwhile. */
function follow() {
  const source = new EventSource("/events");
  source.onopen = () => setConnection("live");
  source.onmessage = (event) => {
    const snap = parseSnapshot(event.data);
    if (snap) onSnapshot(snap);
    setConnection("live");
  };
  source.onerror = () => {
    setConnection("reconnecting");
    // A refused stream (not 200 / not text/event-stream) is closed for good: start over after a pause.
    if (source.readyState === EventSource.CLOSED) setTimeout(follow, 3000);
  };
}

fetch("/stats", { cache: "no-store" })
  .then((response) => (response.ok ? response.text() : null))
  .then((text) => {
    const snap = text === null ? null : parseSnapshot(text);
    if (snap) onSnapshot(snap);
  })
  .catch(() => setConnection("reconnecting"))
  .finally(follow);
`;

const DASHBOARD_CSS = `
:root {
  color-scheme: light dark;
  --bg: #f4f5f7; --card: #fff; --fg: #1d2330; --muted: #667085; --line: #cdd2db; --track: #eceef2;
  --up: #1f9d55; --starting: #2f6fdb; --restarting: #e07b00; --down: #d23c3c; --idle: #8a919e;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --card: #1d2129; --fg: #e6e9ef; --muted: #9aa3b2; --line: #3a404c; --track: #2a2f39; }
}
* { box-sizing: border-box; }
html, body { margin: 0; overflow-x: hidden; }
body { font: 14px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 6px 18px; padding: 12px 16px; }
h1 { font-size: 18px; margin: 0; }
main { display: grid; gap: 12px; padding: 0 16px 16px; grid-template-columns: repeat(auto-fit, minmax(min(100%, 360px), 1fr)); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 12px; min-width: 0; }
.card.wide { grid-column: 1 / -1; }
.card h2 { display: flex; justify-content: space-between; gap: 8px; margin: 0 0 8px; font-size: 12px;
  font-weight: 600; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.card h2 + * + h2 { margin-top: 14px; }
.muted { color: var(--muted); }
.legend { font-weight: 400; text-transform: none; letter-spacing: 0; }

/* state colours: every coloured thing takes --c from its state class */
.st-up { --c: var(--up); } .st-starting { --c: var(--starting); } .st-restarting { --c: var(--restarting); }
.st-down { --c: var(--down); } .st-idle { --c: var(--idle); }
.badge, .kind { display: inline-block; padding: 0 8px; border-radius: 9px; font-size: 12px; color: #fff; background: var(--c); }

/* topology tree */
.tier { display: flex; flex-wrap: wrap; justify-content: center; gap: 8px; }
.tier .proc { width: 230px; max-width: 100%; }
.link { width: 2px; height: 14px; margin: 0 auto; background: var(--line); }
.branches { display: flex; flex-wrap: wrap; gap: 12px; padding-top: 12px; border-top: 2px solid var(--line); }
.branch { flex: 1 1 260px; min-width: 0; }
.branch > .proc { max-width: 240px; }
.servers { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(100%, 124px), 1fr)); gap: 6px;
  margin: 8px 0 0 10px; padding-left: 10px; border-left: 2px solid var(--line); }
.branch.direct .servers { margin: 0; padding-left: 0; border-left: 0; }
.servers.compact { grid-template-columns: repeat(auto-fill, minmax(min(100%, 100px), 1fr)); gap: 4px; }
.servers.none { display: block; color: var(--muted); font-size: 12px; }
.proc { min-width: 0; padding: 5px 8px; border: 1px solid var(--line); border-left: 5px solid var(--c);
  border-radius: 6px; background: var(--card); }
.proc.st-down { background: color-mix(in srgb, var(--down) 10%, var(--card)); }
.pname { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; font-weight: 600; }
.prow { display: flex; justify-content: space-between; gap: 6px; white-space: nowrap; font-size: 12px; color: var(--muted); }
.prow span { overflow: hidden; text-overflow: ellipsis; }
.pstate { font-weight: 600; color: var(--c); }
.compact .proc { padding: 2px 5px; border-left-width: 4px; }
.compact .pname { font-size: 12px; }
.compact .prow { font-size: 10.5px; }

/* server load bars */
.bars { max-height: 420px; overflow-y: auto; }
.bar { display: grid; grid-template-columns: minmax(50px, 9em) 1fr 5em; gap: 8px; align-items: center;
  height: 20px; margin-bottom: 3px; font-size: 12px; }
.bar.dense { height: 12px; margin-bottom: 1px; font-size: 10px; }
.blabel { overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.btrack { height: 75%; border-radius: 2px; background: var(--track); }
.bfill { display: block; height: 100%; border-radius: 2px; background: var(--c); }
.bvalue { text-align: right; font-variant-numeric: tabular-nums; }

/* request-rate graph */
.graph svg { display: block; width: 100%; height: auto; }
.graph .grid { stroke: var(--line); stroke-dasharray: 3 3; }
.graph .axisline { stroke: var(--muted); }
.graph .tick { font-size: 11px; fill: var(--muted); }
.graph .axis { font-size: 12px; fill: var(--fg); }
.graph .rate { fill: none; stroke: var(--starting); stroke-width: 2; stroke-linejoin: round; }

/* rooms and events */
.rooms { display: flex; flex-wrap: wrap; gap: 4px 24px; font-size: 15px; }
.events { max-height: 420px; margin: 0; padding: 0; overflow-y: auto; list-style: none; }
.events li { display: grid; grid-template-columns: auto auto 1fr; gap: 8px; align-items: baseline;
  padding: 3px 0; border-bottom: 1px solid var(--line); font-size: 13px; }
.events time { color: var(--muted); font-variant-numeric: tabular-nums; }
.kind { font-size: 11px; }
.etext { min-width: 0; overflow-wrap: anywhere; }
`;

/** The complete dashboard document. */
export const DASHBOARD_HTML: string = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchyard dashboard</title>
<link rel="icon" href="data:,">
<style>${DASHBOARD_CSS}</style>
</head>
<body>
<header>
  <h1>Switchyard</h1>
  <span class="muted">topology <b id="topology">&ndash;</b></span>
  <span class="muted">processes <b id="process-count" data-testid="process-count">0</b></span>
  <span class="muted">updated <span id="updated" data-testid="updated">&ndash;</span></span>
  <span id="connection" data-testid="connection" data-status="connecting" class="badge st-starting">connecting&hellip;</span>
</header>
<main>
  <section class="card wide">
    <h2>Topology <span class="legend">&#8635; restarts &middot; req/s since the last update</span></h2>
    <div id="tree" data-testid="tree"><p class="muted">waiting for /stats&hellip;</p></div>
  </section>
  <section class="card">
    <h2>Server load <span class="legend" id="bars-unit">&ndash;</span></h2>
    <div id="bars" class="bars" data-testid="server-load"></div>
  </section>
  <section class="card">
    <h2>Load balancer request rate <span class="legend" id="rate-now" data-testid="rate-now">&ndash;</span></h2>
    <div id="rate-graph" class="graph" data-testid="rate-graph"></div>
  </section>
  <section class="card">
    <h2>Rooms</h2>
    <div class="rooms">
      <span><span class="muted">leader</span> <b id="rooms-leader" data-testid="rooms-leader">&ndash;</b></span>
      <span><span class="muted">epoch</span> <b id="rooms-epoch" data-testid="rooms-epoch">&ndash;</b></span>
    </div>
    <h2>Recent events</h2>
    <ul id="events" class="events" data-testid="events"><li class="muted">no events yet</li></ul>
  </section>
</main>
<script>
"use strict";
${DASHBOARD_HELPERS_JS}
${DASHBOARD_APP_JS}
</script>
</body>
</html>
`;
