// The markdown of the HTTP benchmark, written into report.md between its own markers.
import type { HttpBenchResult, HttpRow } from "./http.ts";
import type { Machine } from "./machine.ts";
import { max, median, min } from "./stats.ts";

export const HTTP_START_MARKER = "<!-- bench-http:start -->";
export const HTTP_END_MARKER = "<!-- bench-http:end -->";
/** From the issue: the flat front door at least as fast as HAProxy with p99 no worse; with external upstreams ≥ 0.9×. */
const FLAT_TARGET = 1.0;
const UPSTREAMS_TARGET = 0.9;

const int = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "–");
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "–");
const us = (n: number) => (Number.isFinite(n) && n > 0 ? n.toFixed(1) : "–");

export function renderHttpSection(result: HttpBenchResult, machine: Machine, command: string): string {
  const heading = "### HTTP: the front door against HAProxy";
  if (result.status === "skipped") return `${heading}\n\nSkipped by \`${command}\` on ${when(machine)}: ${result.reason}.`;
  const { shape, rows } = result;
  const base = rows.find((r) => r.kind === "baseline");
  const baseRps = base ? median(base.runs.map((r) => r.rps)) : Number.NaN;
  const rpsOf = (row: HttpRow) => median(row.runs.map((r) => r.rps));
  const p99Of = (row: HttpRow) => median(row.runs.map((r) => r.p99Ms));
  const row = (r: HttpRow) => {
    const rps = r.runs.map((x) => x.rps);
    const errors = r.runs.reduce((n, x) => n + x.non2xx + x.socketErrors, 0);
    const vs = r === base ? "1.00×" : Number.isFinite(baseRps) ? `${(rpsOf(r) / baseRps).toFixed(2)}×` : "–";
    const answered = r.servers.length > 0 ? r.servers.join(", ") : "–";
    return `| ${r.label} | ${int(median(rps))} | ${int(min(rps))} – ${int(max(rps))} | ${ms(median(r.runs.map((x) => x.p50Ms)))} | ${ms(p99Of(r))} | ${r.kind === "front door" ? `**${vs}**` : vs} | ${us(r.proxyUs)} | ${us(r.backendUs)} | ${us(r.wrkUs)} | ${errors} | ${answered} |`;
  };
  const failedRow = (label: string) => `| ${label} | failed to start | – | – | – | – | – | – | – | – | – |`;
  const pairs = (r: HttpRow) => (base ? r.runs.map((x, i) => (x.rps / (base.runs[i]?.rps ?? Number.NaN)).toFixed(2)).join(", ") : "–");

  const find = (label: string) => rows.find((r) => r.label.startsWith(label));
  const flat = find("front door, flat");
  const upstreams = find("front door → 3 Bun.serve");
  const verdict = (r: HttpRow | undefined, target: number, p99Too: boolean) => {
    if (r === undefined) return "not measured (it did not start)";
    if (base === undefined) return "not measured (HAProxy did not start)";
    const ratio = rpsOf(r) / baseRps;
    const p99 = p99Of(r) <= p99Of(base);
    const met = ratio >= target && (!p99Too || p99);
    return `${met ? "met" : "not met"} (${ratio.toFixed(2)}×${p99Too ? `, p99 ${ms(p99Of(r))} vs ${ms(p99Of(base))} ms` : ""})`;
  };

  // CPU cost is disturbed less than req/s by other work on a shared machine: the same comparison by CPU.
  const cpuLine = rows
    .filter((r) => r !== base)
    .map((r) => {
      const all = r.proxyUs + r.backendUs + r.wrkUs;
      const vs = base && r.proxyUs > 0 ? `, proxying ${(r.proxyUs / base.proxyUs).toFixed(2)}× HAProxy's` : "";
      return `${r.label}: ${all.toFixed(1)} µs in all (${int((machine.cores * 1e6) / all)} req/s${vs})`;
    });
  if (base) cpuLine.unshift(`${base.label}: ${(base.proxyUs + base.backendUs + base.wrkUs).toFixed(1)} µs in all (${int((machine.cores * 1e6) / (base.proxyUs + base.backendUs + base.wrkUs))} req/s)`);

  const lines = [
    heading,
    "",
    `Measured by \`${command}\` on ${when(machine)}; this part took ${result.elapsedS.toFixed(0)} s. ${machine.cpu}, ${machine.cores} cores, Bun ${machine.bun}.`,
    "",
    `${result.tools.wrkVersion} with the same settings for every target: \`wrk -t${shape.threads} -c${shape.connections} -d${shape.durationS}s --timeout ${shape.timeoutS}s --latency http://127.0.0.1:<port>/home\` ` +
      `(HTTP/1.1 keep-alive: ${shape.connections} connections held open, one request in flight on each), each counted run right after an uncounted ${shape.warmupS} s one; ` +
      `${result.rounds} rounds of the targets that started, interleaved (A, B, C, …, then A, B, C, … again), after one discarded run of each. ` +
      `Backends: ${"3"} \`Bun.serve\` processes (scripts/bench/http-backend.ts) answering \`GET /home\` with \`{"message": "Hello from Server: N", "status": "successful"}\` (application/json) and \`GET /healthcheck\` with 200. ` +
      `Everything listens on 127.0.0.1 and **shares the ${machine.cores} cores** with wrk.`,
    "",
    `Targets: ${result.order.map((t, i) => `${String.fromCharCode(65 + i)} = ${t.label}: \`${t.command}\``).join("; ")}.`,
    "",
    "| target | req/s (median) | req/s (min – max) | p50 ms (median) | p99 ms (median) | vs HAProxy | proxying CPU µs / request | backends CPU µs / request | wrk CPU µs / request | errors | answered by |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ...result.order.map(({ label }) => {
      const measured = rows.find((r) => r.label === label);
      return measured ? row(measured) : failedRow(label);
    }),
    "",
    `"vs HAProxy" is the ratio of the medians; per round: ${rows.filter((r) => r !== base).map((r) => `${r.label}: ${pairs(r)}`).join("; ") || "–"}. ` +
      `CPU per request: utime + stime from /proc/<pid>/stat over the counted runs, divided by the requests wrk counted in them; ` +
      `"proxying" is HAProxy's one process, or the load balancer (and the reverse proxies of the two-tier fleet); "backends" are the Bun.serve processes or the fleet's servers; wrk's own from its rusage. ` +
      `"Answered by": the server numbers in 12 sequential answers before the runs (one connection).`,
    "",
    `CPU per request of every process involved (proxying + backends + wrk), and the req/s that ${machine.cores} fully used cores would allow at that cost: ${cpuLine.join("; ")}.`,
    "",
    `Proxying CPU µs per request, process by process: ${rows
      .filter((r) => r.proxyUsEach.length > 0)
      .map((r) => `${r.label}: ${r.proxyUsEach.map((p) => `${p.name} ${us(p.us)}`).join(", ")}`)
      .join("; ")}.`,
    "",
    `Targets from the issue: flat front door ≥ ${FLAT_TARGET.toFixed(1)}× HAProxy with p99 no worse: ${verdict(flat, FLAT_TARGET, true)}; ` +
      `front door with external upstreams ≥ ${UPSTREAMS_TARGET.toFixed(1)}×: ${verdict(upstreams, UPSTREAMS_TARGET, false)}.`,
    "",
    `${result.tools.haproxyVersion}, \`nbthread ${result.haproxyThreads}\`: ${result.haproxyThreadsWhy} Its configuration (\`haproxy -db -f haproxy.cfg\`, in the foreground, no \`log\` line so nothing is logged):`,
    "",
    "```",
    result.haproxyConfig.replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:<port>").trimEnd(),
    "```",
  ];
  if (result.failures.length > 0) {
    lines.push("", "Failed to start:", "");
    for (const f of result.failures) {
      const text = f.error.split("\n").slice(0, 12).join("\n    ");
      lines.push(`- ${f.label}:`, "", `    ${text}`, "");
    }
  }
  if (result.warnings.length > 0) lines.push("", "Warnings from this run:", "", ...result.warnings.map((w) => `- ${w}`));
  lines.push("", "Reproduce: `bun scripts/bench/http.ts` (this part alone; `--write` puts it here) or `make bench`.");
  return lines.join("\n").replace(/\n{3,}/g, "\n\n");
}

function when(machine: Machine): string {
  return `${machine.date.slice(0, 16).replace("T", " ")} UTC`;
}
