// The analysis's charts as Vega-Lite specs: every chart has a title, axis titles and units.
import type { TopLevelSpec } from "vega-lite";
import type { BalanceRun, HashChoice } from "./balance.ts";
import type { FailoverRun } from "./failover.ts";
import type { RingPicture } from "./model.ts";
import { wrap } from "./svg.ts";

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json";
const thousands = (n: number) => n.toLocaleString("en-US");

/** Grouped bars: requests per server at one N, one group per hash choice, with the fair share as a dashed line. */
export function perServerBars(runs: readonly BalanceRun[], choices: readonly HashChoice[], title: string): TopLevelSpec {
  const chosen = runs.filter((r) => choices.includes(r.choice));
  const n = chosen[0]?.n ?? 0;
  const requests = chosen[0]?.requests ?? 0;
  const values = chosen.flatMap((r) => r.counts.map((count, i) => ({ choice: r.choice.label, server: `Server ${i + 1}`, requests: count })));
  const labels = choices.map((c) => c.label);
  return {
    $schema: SCHEMA,
    title: { text: title, subtitle: wrap(`${thousands(requests)} GET /home through the load balancer to N = ${n} servers, per hash choice; dashed: the fair share, ${thousands(Math.round(requests / n))}`) },
    width: 120 * choices.length,
    height: 300,
    data: { values },
    layer: [
      {
        mark: { type: "bar" },
        encoding: {
          x: { field: "choice", type: "nominal", sort: labels, title: "hash choice", axis: { labelAngle: 0, labelLimit: 300 } },
          xOffset: { field: "server", type: "nominal" },
          y: { field: "requests", type: "quantitative", title: "requests answered" },
          color: { field: "server", type: "nominal", title: "server" },
        },
      },
      {
        mark: { type: "text", dy: -6, fontSize: 9 },
        encoding: {
          x: { field: "choice", type: "nominal", sort: labels },
          xOffset: { field: "server", type: "nominal" },
          y: { field: "requests", type: "quantitative" },
          text: { field: "requests", type: "quantitative", format: "," },
        },
      },
      { mark: { type: "rule", strokeDash: [6, 4], color: "#333" }, encoding: { y: { datum: requests / n } } },
    ],
  } as TopLevelSpec;
}

/** Small multiples, one per hash choice: every server's count at each N (points), the average (line) and the range (band). */
export function loadByN(runs: readonly BalanceRun[], choices: readonly HashChoice[], title: string): TopLevelSpec {
  const chosen = runs.filter((r) => choices.includes(r.choice));
  const requests = chosen[0]?.requests ?? 0;
  const points = chosen.flatMap((r) => r.counts.map((count) => ({ choice: r.choice.label, n: r.n, requests: count })));
  const summary = chosen.map((r) => ({ choice: r.choice.label, n: r.n, mean: requests / r.n, min: Math.min(...r.counts), max: Math.max(...r.counts) }));
  return {
    $schema: SCHEMA,
    title: { text: title, subtitle: wrap(`${thousands(requests)} GET /home per run; line: average load per server (${thousands(requests)} / N); band: least to most loaded server; dots: each server`) },
    data: { values: [...points.map((p) => ({ ...p, kind: "server" })), ...summary.map((s) => ({ ...s, kind: "summary" }))] },
    facet: { column: { field: "choice", type: "nominal", sort: choices.map((c) => c.label), title: null } },
    spec: {
      width: 170,
      height: 240,
      layer: [
        {
          transform: [{ filter: "datum.kind === 'summary'" }],
          mark: { type: "area", opacity: 0.2, color: "#e45756" },
          encoding: { x: { field: "n", type: "ordinal", title: "servers (N)", axis: { labelAngle: 0 } }, y: { field: "min", type: "quantitative", title: "requests per server" }, y2: { field: "max" } },
        },
        {
          transform: [{ filter: "datum.kind === 'summary'" }],
          mark: { type: "line", color: "#333", point: true },
          encoding: { x: { field: "n", type: "ordinal" }, y: { field: "mean", type: "quantitative" } },
        },
        {
          transform: [{ filter: "datum.kind === 'server'" }],
          mark: { type: "circle", size: 30, color: "#e45756", opacity: 0.8 },
          encoding: { x: { field: "n", type: "ordinal" }, y: { field: "requests", type: "quantitative" } },
        },
      ],
    },
  } as TopLevelSpec;
}

/** max/mean (the busiest server over the average) against N, a line per hash choice. */
export function imbalanceByN(runs: readonly BalanceRun[], choices: readonly HashChoice[], title: string): TopLevelSpec {
  const values = runs.filter((r) => choices.includes(r.choice)).map((r) => ({ choice: r.choice.label, n: r.n, maxMean: r.maxMean }));
  return {
    $schema: SCHEMA,
    title: { text: title, subtitle: wrap("busiest server's requests over the average; 1.0 is perfect balance") },
    width: 460,
    height: 280,
    data: { values },
    layer: [
      {
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "n", type: "ordinal", title: "servers (N)", axis: { labelAngle: 0 } },
          y: { field: "maxMean", type: "quantitative", title: "max / mean (×)", scale: { zero: false, domainMin: 1 } },
          color: { field: "choice", type: "nominal", sort: choices.map((c) => c.label), title: "hash choice" },
        },
      },
      { mark: { type: "rule", strokeDash: [6, 4], color: "#333" }, encoding: { y: { datum: 1 } } },
    ],
  } as TopLevelSpec;
}

/** Where H puts request keys (keys per 8 slots) and where Φ puts the virtual servers, one panel per hash. */
export function ringPictures(pictures: ReadonlyArray<{ label: string; picture: RingPicture }>, title: string): TopLevelSpec {
  const binSize = 8;
  const first = pictures[0]!.picture;
  return {
    $schema: SCHEMA,
    title: {
      text: title,
      subtitle: wrap(
        `${thousands(first.keysAt.reduce((a, b) => a + b, 0))} six-digit request ids from a seeded generator and the ${first.vnodes.length} virtual servers on the ${first.slots}-slot ring; bars: request keys per ${binSize} slots; ticks below: the virtual servers, by server. A key goes to the first virtual server clockwise (to its right, wrapping round at the end).`,
      ),
    },
    vconcat: pictures.map(({ label, picture }) => {
      const keys = Array.from({ length: picture.slots / binSize }, (_, b) => ({
        slot: b * binSize,
        keys: picture.keysAt.slice(b * binSize, (b + 1) * binSize).reduce((x, y) => x + y, 0),
      }));
      return {
        title: { text: label, fontSize: 13 },
        vconcat: [
          {
            width: 640,
            height: 110,
            data: { values: keys },
            mark: { type: "bar", color: "#4c78a8", width: 4 },
            encoding: {
              x: { field: "slot", type: "quantitative", scale: { domain: [0, picture.slots] }, title: null },
              y: { field: "keys", type: "quantitative", title: "keys per 8 slots" },
            },
          },
          {
            width: 640,
            height: 36,
            data: { values: picture.vnodes.map((v) => ({ ...v, server: `Server ${v.server}` })) },
            mark: { type: "tick", thickness: 2, size: 26 },
            encoding: {
              x: { field: "slot", type: "quantitative", scale: { domain: [0, picture.slots] }, title: `slot on the ring (0 – ${picture.slots - 1})` },
              color: { field: "server", type: "nominal", title: "virtual servers of" },
            },
          },
        ],
      };
    }),
  } as TopLevelSpec;
}

/** Requests per server per bin over the run, with the kill and the replacement marked. */
export function timeline(run: FailoverRun, title: string): TopLevelSpec {
  const { binMs, victim } = run.options;
  const values = run.bins.map((b) => ({ t: b.t / 1000, server: `Server ${b.server}`, requests: b.requests }));
  const answered = [...run.load.perServer.values()].reduce((a, b) => a + b, 0);
  // The two marks are tens of ms apart: their labels go on separate lines (y in pixels from the top).
  const marks = [
    { t: run.killedAt / 1000, what: `SIGKILL Server ${victim}`, y: 12 },
    { t: run.backAt / 1000, what: "replacement ready", y: 28 },
  ];
  return {
    $schema: SCHEMA,
    title: {
      text: title,
      subtitle: wrap(`GET /home from ${run.options.concurrency} concurrent clients, answers per server per ${binMs} ms; ${thousands(answered + run.load.failed)} requests, ${run.load.failed} failed`),
    },
    width: 640,
    height: 300,
    layer: [
      {
        data: { values },
        mark: { type: "line", interpolate: "step-after" },
        encoding: {
          x: { field: "t", type: "quantitative", title: "time since the load started (s)" },
          y: { field: "requests", type: "quantitative", title: `requests answered per ${binMs} ms` },
          color: { field: "server", type: "nominal", title: "answered by" },
        },
      },
      {
        data: { values: marks },
        mark: { type: "rule", strokeDash: [4, 3], color: "#333" },
        encoding: { x: { field: "t", type: "quantitative" } },
      },
      {
        data: { values: marks },
        mark: { type: "text", align: "left", dx: 4, dy: -4, fontSize: 11, baseline: "bottom" },
        encoding: { x: { field: "t", type: "quantitative" }, y: { field: "y", type: "quantitative", scale: null }, text: { field: "what" } },
      },
    ],
  } as TopLevelSpec;
}
