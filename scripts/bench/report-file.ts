// Writing one marked section of report.md, keeping everything else in it. No package imports.
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";

export const START_MARKER = "<!-- bench:start -->";
export const END_MARKER = "<!-- bench:end -->";

/**
 * Replaces what is between `start` and `end` in `path`, keeping everything else. Without those
 * markers the block goes right after the main bench section (so it stays under "## Performance"),
 * or at the end when there is none; without the file, into a new one.
 */
export function writeSection(path: string, start: string, end: string, section: string): void {
  const block = `${start}\n${section}\n${end}`;
  let text: string;
  if (!existsSync(path)) {
    text = `# Switchyard: report\n\n## Performance\n\n${block}\n`;
  } else {
    const current = readFileSync(path, "utf8");
    const from = current.indexOf(start);
    const to = current.indexOf(end, from + start.length);
    const bench = current.indexOf(END_MARKER);
    if (from >= 0 && to >= 0) text = current.slice(0, from) + block + current.slice(to + end.length);
    else if (start !== START_MARKER && bench >= 0) text = `${current.slice(0, bench + END_MARKER.length)}\n\n${block}${current.slice(bench + END_MARKER.length)}`;
    else text = `${current.trimEnd()}\n\n## Performance\n\n${block}\n`;
  }
  const tmp = `${path}.bench-${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}
