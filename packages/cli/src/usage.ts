import type { ArgsDef } from "citty";

/** `--help` text: what citty knows about each flag, laid out the way GNU tools do. */
export function renderUsage(name: string, version: string, description: string, args: ArgsDef, epilogue?: string): string {
  const positionals: string[] = [];
  const rows: Array<[string, string]> = [];
  for (const [flag, def] of Object.entries(args)) {
    if (def.type === "positional") {
      positionals.push(def.required === false ? `[${flag.toUpperCase()}]` : flag.toUpperCase());
      rows.push([flag.toUpperCase(), def.description ?? ""]);
      continue;
    }
    const hint = def.type === "boolean" ? "" : ` <${"valueHint" in def && def.valueHint ? def.valueHint : "value"}>`;
    const notes: string[] = [];
    if (def.type === "enum" && def.options) notes.push(`one of: ${def.options.join(", ")}`);
    if (def.default !== undefined) notes.push(`default: ${def.default}`);
    if (def.required) notes.push("required");
    rows.push([`--${flag}${hint}`, `${def.description ?? ""}${notes.length > 0 ? ` [${notes.join("; ")}]` : ""}`]);
  }
  rows.push(["-h, --help", "Show this help and exit"], ["-v, --version", "Show the version and exit"]);
  const width = Math.min(28, Math.max(...rows.map(([left]) => left.length)) + 2);
  const lines = rows.map(([left, right]) => (left.length + 2 > width ? `  ${left}\n  ${" ".repeat(width)}${right}` : `  ${left.padEnd(width)}${right}`));
  return [
    `${name} ${version}: ${description}`,
    "",
    `Usage: ${name}${positionals.length > 0 ? ` ${positionals.join(" ")}` : ""} [options]`,
    "",
    "Options:",
    ...lines,
    ...(epilogue ? ["", epilogue.trim()] : []),
    "",
  ].join("\n");
}
