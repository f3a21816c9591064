// The analysis's tables and numbers as markdown, one block per experiment, for report.md's markers.
// Only what was measured (or computed from the policies' own code, and said so) goes in.
import type { Machine } from "../bench/machine.ts";
import type { BalanceRun, HashChoice } from "./balance.ts";
import type { FailoverRun } from "./failover.ts";
import type { Measure, RingPicture } from "./model.ts";

export const FIGURES = "docs/figures";
const fixed = (x: number, digits = 2) => x.toFixed(digits);
const thousands = (n: number) => Math.round(n).toLocaleString("en-US");
const percent = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;
/** "12.5 ms after" or "6.5 ms before". */
const around = (ms: number) => (ms < 0 ? `${fixed(-ms, 1)} ms before` : `${fixed(ms, 1)} ms after`);
const figure = (file: string, alt: string) => `![${alt}](${FIGURES}/${file})`;

export interface RunInfo {
  readonly machine: Machine;
  readonly seconds: number;
  readonly requests: number;
  readonly concurrency: number;
}

/** The line under the experiments' heading: when, where, how long. */
export function renderRunInfo(info: RunInfo, choices: readonly HashChoice[]): string {
  const { machine } = info;
  return [
    `Measured by \`make analysis\` (scripts/analysis.ts) on ${machine.date.slice(0, 16).replace("T", " ")} UTC; the whole run took ${Math.round(info.seconds)} s.`,
    `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.kernel}, Bun ${machine.bun}.`,
    "",
    `Every run starts its own compiled fleet (\`./watchdog --proxies 0 --servers N --lb-policy <policy> --http-port 0 --run-dir <tmp>\`: the flat topology of seeds/002, the load balancer in front of N servers), waits until the load balancer counts every server up, sends ${thousands(info.requests)} \`GET /home\` requests through its HTTP front door, at most ${info.concurrency} in flight, reads the server's number from each answer (\`Hello from Server: N\`), checks the counts against the fleet's own \`GET /stats\`, and stops the fleet. The load balancer draws a random six-digit request id for each request (\`--http-key request\`, the seed's R_id) and routes on it.`,
    "",
    "| hash choice | `--lb-policy` |",
    "|---|---|",
    ...choices.map((c) => `| ${c.label} | \`${c.policy}\` |`),
  ].join("\n");
}

function balanceTable(runs: readonly BalanceRun[], n: number): string {
  const header = `| hash choice | ${Array.from({ length: n }, (_, i) => `Server ${i + 1}`).join(" | ")} | max/mean | cv | failed |`;
  const rule = `|---|${"---:|".repeat(n + 3)}`;
  const rows = runs.map((r) => `| ${r.choice.label} | ${r.counts.map(thousands).join(" | ")} | ${fixed(r.maxMean)} | ${fixed(r.cv, 3)} | ${r.failed} |`);
  return [header, rule, ...rows].join("\n");
}

/** Problems a reader must know about: requests that failed, counts /stats disagrees with. */
function caveats(runs: readonly BalanceRun[]): string {
  const lines = runs.flatMap((r) => [
    ...(r.failed > 0 ? [`- ${r.choice.label}, N = ${r.n}: ${r.failed} of ${thousands(r.requests)} requests failed`] : []),
    ...(r.mismatch !== "" ? [`- ${r.choice.label}, N = ${r.n}: ${r.mismatch}`] : []),
  ]);
  return lines.length === 0 ? "Every request was answered, and every per-server count agrees with the fleet's own `GET /stats`." : `Warnings:\n\n${lines.join("\n")}`;
}

export function renderA1(runs: readonly BalanceRun[], choices: readonly HashChoice[]): string {
  const chosen = choices.map((c) => runs.find((r) => r.choice === c && r.n === 3)!);
  const seed = chosen[0]!;
  const busiest = seed.counts.indexOf(Math.max(...seed.counts));
  return [
    figure("a1-requests-per-server.svg", "A-1: requests per server at N = 3"),
    "",
    balanceTable(chosen, 3),
    "",
    `With the seed's functions Server ${busiest + 1} answered ${thousands(seed.counts[busiest]!)} of ${thousands(seed.requests)} requests (${percent(seed.counts[busiest]!, seed.requests)}; a fair share is 33.3 %). Each run took ${chosen.map((r) => `${fixed(r.elapsedMs / 1000, 1)} s`).join(", ")} (in the order of the table).`,
    "",
    caveats(chosen),
  ].join("\n");
}

export function renderA2(runs: readonly BalanceRun[], choices: readonly HashChoice[], moved: ReadonlyMap<string, Measure>): string {
  const header = "| hash choice | N | average per server | least – most loaded | max/mean | cv | keys moved when a server leaves (model) |";
  const rule = "|---|---:|---:|---:|---:|---:|---:|";
  const rows = choices.flatMap((c) =>
    runs
      .filter((r) => r.choice === c)
      .map((r) => {
        const model = moved.get(`${c.id}/${r.n}`);
        return `| ${c.label} | ${r.n} | ${thousands(r.requests / r.n)} | ${thousands(Math.min(...r.counts))} – ${thousands(Math.max(...r.counts))} | ${fixed(r.maxMean)} | ${fixed(r.cv, 3)} | ${model === undefined ? "–" : `${fixed(100 * model.moved, 1)} % (least: ${fixed(100 / r.n, 1)} %)`} |`;
      }),
  );
  return [
    figure("a2-load-by-n.svg", "A-2: requests per server as N grows"),
    "",
    figure("a2-imbalance.svg", "A-2: max/mean as N grows"),
    "",
    [header, rule, ...rows].join("\n"),
    "",
    "\"Keys moved\" is computed from the policy's code, not a fleet: 10,000 six-digit request ids from a seeded generator, the share whose server changes when one of the N leaves, averaged over which one leaves (1/N is the least any scheme can move: the leaving server's own keys).",
    "",
    caveats(runs.filter((r) => choices.includes(r.choice))),
  ].join("\n");
}

export function renderA3(run: FailoverRun): string {
  const { victim, binMs, killAtMs, durationMs, concurrency, servers, policy } = run.options;
  const endpoints = run.endpoints.map((e) => {
    const request = `\`${e.method} ${e.path}\`${e.body === undefined ? "" : ` \`${e.body}\``}`;
    const mark = e.status === e.expected ? "" : " **(unexpected)**";
    const answer = e.answer === "" ? "(empty)" : `\`${e.answer.replaceAll("|", "\\|").replaceAll("`", "'")}\``;
    return `| ${request} | ${e.expected} | ${e.status}${mark} | ${answer} |`;
  });
  const answered = [...run.load.perServer.values()].reduce((a, b) => a + b, 0);
  const perSecond = (from: number, to: number, server: number) => {
    const bins = run.bins.filter((b) => b.server === server && b.t >= from && b.t + binMs <= to);
    return bins.length === 0 ? 0 : bins.reduce((sum, b) => sum + b.requests, 0) / ((bins.length * binMs) / 1000);
  };
  const before = (s: number) => perSecond(0, run.killedAt, s);
  const after = (s: number) => perSecond(run.backAt + 500, durationMs, s);
  const rates = Array.from({ length: servers }, (_, i) => i + 1).map((s) => `| Server ${s} | ${thousands(before(s))} | ${thousands(after(s))} |`);
  const errors = [...run.load.errors].map(([why, count]) => `${count} × ${why}`).join(", ");
  return [
    `A fleet of ${servers} servers with \`--lb-policy ${policy}\` (a strong hash on the seed's ring, so every server has load to lose). First each endpoint of the seed's API, in this order:`,
    "",
    "| request | expected | status | answer |",
    "|---|---:|---:|---|",
    ...endpoints,
    "",
    `Then, after ${thousands(run.options.warmupRequests)} uncounted requests to warm the fleet up, ${concurrency} clients send \`GET /home\` for ${fixed(durationMs / 1000, 1)} s, each sending its next request when the last is answered, and Server ${victim} (pid ${run.oldPid}) is SIGKILLed ${fixed(killAtMs / 1000, 1)} s in.`,
    "",
    figure("a3-timeline.svg", "A-3: requests per server per 100 ms, a server killed"),
    "",
    `- **Requests:** ${thousands(answered + run.load.failed)} sent, ${thousands(answered)} answered, **${run.load.failed} failed**${errors === "" ? "" : ` (${errors})`}. The load balancer retries a request whose server connection breaks on another server, so the requests in flight on the dying server are answered too.`,
    `- **Replacement:** the watchdog reported the new Server ${victim} (pid ${run.newPid}) ready **${run.watchdogMs} ms** after it reaped the old one (its own figure, in its log); the "is back" line reached the analysis ${fixed(run.backAt - run.killedAt, 0)} ms after the kill was sent.`,
    `- **Load coming back:** ${
      run.silence === null
        ? `**Server ${victim} never answered again** after the kill.`
        : `Server ${victim}'s last answer arrived ${around(run.silence.from)} the kill (answers the old process had sent before it died can arrive just after it), and the first from its replacement **${fixed(run.silence.to, 1)} ms** after the kill: the clients saw Server ${victim} silent for ${fixed(run.silence.to - run.silence.from, 1)} ms, while its requests went to the next server clockwise on the ring.`
    } The load balancer dials the new process on the same socket and puts it back on its ring positions, so the same request ids go to it again.`,
    "",
    `Requests per second by server (from the ${binMs} ms bins: before the kill, and from 0.5 s after the replacement to the end):`,
    "",
    "| server | before the kill | after the replacement |",
    "|---|---:|---:|",
    ...rates,
  ].join("\n");
}

/** Where the seed's ring puts things at N = 3: the facts the explanation rests on, computed from the policy's code. */
function ringFacts(seed: RingPicture, strong: RingPicture, keyCount: number): string {
  const slots = seed.vnodes.map((v) => v.slot);
  const [low, high] = [Math.min(...slots), Math.max(...slots)];
  const first = seed.vnodes.find((v) => v.slot === low)!;
  const wrapped = seed.keysAt.slice(high + 1).reduce((a, b) => a + b, 0) + seed.keysAt.slice(0, low + 1).reduce((a, b) => a + b, 0);
  const arcs = seed.arcs.map((a, i) => `Server ${i + 1} ${a}`).join(", ");
  const strongArcs = strong.arcs.map((a, i) => `Server ${i + 1} ${a}`).join(", ");
  return [
    `- H(i) = i² + 2i + 17 mod ${seed.slots} takes **${seed.keySlots} distinct slots** for ${thousands(keyCount)} six-digit request ids (xxh32: ${strong.keySlots} of ${strong.slots}).`,
    `- Φ(i, j) = i² + j² + 2j + 25 puts the ${seed.vnodes.length} virtual servers of Servers 1–3 in **slots ${low}–${high}**, none above or below, so every key hashed above slot ${high} wraps round, and with the keys hashed to slots 0–${low} goes to slot ${low}, a virtual server of **Server ${first.server}**: ${thousands(wrapped)} of the ${thousands(keyCount)} keys (${percent(wrapped, keyCount)}).`,
    `- Slots owned (each virtual server owns the slots from the previous one up to its own): ${arcs} of ${seed.slots}; with xxh32: ${strongArcs}.`,
  ].join("\n");
}

export function renderA4(runs: readonly BalanceRun[], choices: readonly HashChoice[], seed: RingPicture, strong: RingPicture, keyCount: number): string {
  const ns = [...new Set(runs.map((r) => r.n))].sort((a, b) => a - b);
  const header = `| hash choice | ${ns.map((n) => `max/mean N=${n}`).join(" | ")} | ${ns.map((n) => `cv N=${n}`).join(" | ")} |`;
  const rule = `|---|${"---:|".repeat(ns.length * 2)}`;
  const rows = choices.map((c) => {
    const of = (n: number) => runs.find((r) => r.choice === c && r.n === n);
    return `| ${c.label} | ${ns.map((n) => fixed(of(n)?.maxMean ?? Number.NaN)).join(" | ")} | ${ns.map((n) => fixed(of(n)?.cv ?? Number.NaN, 3)).join(" | ")} |`;
  });
  return [
    figure("a4-requests-per-server.svg", "A-4: requests per server at N = 3 for each hash function on the ring"),
    "",
    figure("a4-imbalance.svg", "A-4: max/mean as N grows, every hash choice"),
    "",
    [header, rule, ...rows].join("\n"),
    "",
    figure("a4-ring.svg", "A-4: where keys and virtual servers land on the ring"),
    "",
    ringFacts(seed, strong, keyCount),
    "",
    caveats(runs.filter((r) => choices.includes(r.choice))),
  ].join("\n");
}
