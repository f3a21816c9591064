import { readFileSync } from "node:fs";
import type { ArgsDef } from "citty";
import { CliError } from "./errors.ts";

/** The tables a config file may have: one per binary, each read by that binary only. */
export const CONFIG_TABLES = ["watchdog", "load_balancer", "reverse_proxy", "server", "client"] as const;

/** Exit code of a configuration that cannot be used (EX_CONFIG): the watchdog does not restart into it. */
const EX_CONFIG = 78;

/** One setting that came from the file, to name it when its value is refused. */
export interface FileSetting {
  flag: string;
  /** How the file spelled it: `[load_balancer] http-port = 99999`. */
  where: string;
}

export interface ConfigArgs {
  /** Flags made from the file's table, for the settings the command line does not give. */
  argv: string[];
  settings: FileSetting[];
  /** The values of the keys only a file can hold (`fileKeys`: routes, pools), as parsed, for the command to check. */
  sections: Record<string, unknown>;
}

/**
 * Reads the `[table]` of a TOML file as flags: keys are the flag names (`http-port`, or
 * `http_port`), values strings, numbers or booleans, arrays for flags that may repeat. A flag on
 * the command line wins over the file. Anything the command would not accept as a flag (an
 * unknown table or key, a value of the wrong kind) is refused here, naming the key.
 */
export function configArgs(file: string, table: string, args: ArgsDef, given: readonly string[], repeatable: readonly string[], fileKeys: readonly string[] = []): ConfigArgs {
  const document = readDocument(file);
  for (const [name, value] of Object.entries(document)) {
    if (!(CONFIG_TABLES as readonly string[]).includes(name)) throw refused(file, `unknown table [${name}] (the tables are ${CONFIG_TABLES.map((t) => `[${t}]`).join(", ")})`);
    if (!isTable(value)) throw refused(file, `${name} must be a table ([${name}])`);
  }
  const section = document[table];
  const sections: Record<string, unknown> = {};
  if (section === undefined) return { argv: [], settings: [], sections };
  const argv: string[] = [];
  const settings: FileSetting[] = [];
  for (const [key, value] of Object.entries(section as Record<string, unknown>)) {
    if (fileKeys.includes(key)) {
      sections[key] = value;
      continue;
    }
    const flag = key.replaceAll("_", "-");
    const def = args[flag];
    const where = `[${table}] ${key} = ${JSON.stringify(value)}`;
    if (def === undefined || def.type === "positional" || flag === "config") throw refused(file, `[${table}] unknown key ${JSON.stringify(key)} (the keys are ${table}'s flags: see ${table} --help${fileKeys.length > 0 ? `, and ${fileKeys.join(", ")}` : ""})`);
    if (isGiven(flag, def, given)) continue;
    settings.push({ flag, where });
    if (def.type === "boolean") {
      if (typeof value !== "boolean") throw refused(file, `${where}: must be true or false`);
      argv.push(value ? `--${flag}` : `--no-${flag}`);
      continue;
    }
    const values = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && !repeatable.includes(flag)) throw refused(file, `${where}: takes one value, not a list`);
    for (const item of values) {
      if (typeof item !== "string" && typeof item !== "number") throw refused(file, `${where}: must be a ${Array.isArray(value) ? "list of strings or numbers" : "string or a number"}`);
      argv.push(`--${flag}`, String(item));
    }
  }
  return { argv, settings, sections };
}

/** A CliError about a flag that came from the file, told as the file's key; others unchanged. */
export function inFileTerms(error: CliError, file: string, settings: readonly FileSetting[]): CliError {
  const setting = settings.find((s) => new RegExp(`--${s.flag}(?![\\w-])`).test(error.message));
  if (setting === undefined) return error;
  return new CliError(`${file}: ${setting.where}: ${error.message}`, EX_CONFIG);
}

function readDocument(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw refused(file, `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  try {
    return Bun.TOML.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw refused(file, `not valid TOML: ${(error as Error).message.replace(/^TOML Parse error: /, "")}`);
  }
}

function isGiven(flag: string, def: ArgsDef[string], given: readonly string[]): boolean {
  const alias = "alias" in def ? def.alias : undefined;
  const names = [flag, ...(Array.isArray(alias) ? alias : alias ? [alias] : [])];
  const end = given.indexOf("--");
  return given.slice(0, end < 0 ? given.length : end).some((arg) => names.some((n) => arg === `--${n}` || arg.startsWith(`--${n}=`) || arg === `--no-${n}` || arg === `-${n}`));
}

function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function refused(file: string, why: string): CliError {
  return new CliError(`${file}: ${why}`, EX_CONFIG);
}
