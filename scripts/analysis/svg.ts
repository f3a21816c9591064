// Vega-Lite specs rendered to SVG without a browser: vega-lite compiles the spec, vega renders it
// with its headless SVG renderer (text widths estimated, no canvas needed).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { View, parse } from "vega";
import { type TopLevelSpec, compile } from "vega-lite";

/** The look every chart shares: white background, readable type, a palette that tells 6 series apart. */
const CONFIG = {
  background: "white",
  font: "Helvetica, Arial, sans-serif",
  title: { fontSize: 15, anchor: "start", offset: 12, subtitleFontSize: 12, subtitleColor: "#555" },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: "#e5e5e5" },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  header: { labelFontSize: 12, titleFontSize: 12 },
  range: { category: ["#4c78a8", "#f58518", "#54a24b", "#e45756", "#72b7b2", "#b279a2", "#ff9da6", "#9d755d"] },
} as const;

/**
 * Without a canvas vega estimates a text's width generously (0.8 em a character), and a long
 * subtitle would widen the whole picture: subtitles are broken into lines of at most this many characters.
 */
const SUBTITLE_LINE = 72;

/** `text` broken at spaces into lines of at most `max` characters. */
export function wrap(text: string, max = SUBTITLE_LINE): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > max) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  return line === "" ? lines : [...lines, line];
}

export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const compiled = compile({ ...spec, config: { ...CONFIG, ...spec.config } } as TopLevelSpec).spec;
  const view = new View(parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function writeSvg(path: string, spec: TopLevelSpec): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${await renderSvg(spec)}\n`);
}
