import { type ArgsDef, type ParsedArgs, parseArgs } from "citty";
import { type FileSetting, configArgs, inFileTerms } from "./config-file.ts";
import { CliError } from "./errors.ts";
import { renderUsage } from "./usage.ts";

declare const SWITCHYARD_VERSION: string | undefined;
/** Set at build time by scripts/build.ts; "dev" when run from source. */
export const VERSION = typeof SWITCHYARD_VERSION === "string" ? SWITCHYARD_VERSION : "0.0.0-dev";

export interface Cli<A extends ArgsDef> {
  name: string;
  description: string;
  args: A;
  /** Extra text after the generated option list (examples, exit codes). */
  epilogue?: string;
  /** Flags that may be given more than once (`--upstream a --upstream b`): `run` sees every value, in order, joined by commas. */
  repeatable?: readonly (keyof A & string)[];
  /** Keys of the binary's config table that are not flags (tables such as routes): `run` gets them as parsed, to check. */
  fileKeys?: readonly string[];
  /** `file`: the `fileKeys` values of the --config file, and its path (to name it in errors). */
  run(args: ParsedArgs<A>, file: ConfigSections): Promise<unknown> | unknown;
}

/** What a --config file held besides flags (see Cli.fileKeys). */
export interface ConfigSections {
  path?: string;
  values: Record<string, unknown>;
}

/**
 * citty parses; this adds what a shipped binary needs: unknown flags are errors, usage errors are
 * one line on stderr and exit 64, other failures exit 1 (or a CliError's own code).
 */
export async function runCli<A extends ArgsDef>(cli: Cli<A>, given = process.argv.slice(2)): Promise<void> {
  const defs: ArgsDef = { ...cli.args, config: CONFIG_ARG(cli.name) };
  if (given.includes("--help") || given.includes("-h")) {
    process.stdout.write(renderUsage(cli.name, VERSION, cli.description, defs, cli.epilogue));
    return;
  }
  if (given.length === 1 && (given[0] === "--version" || given[0] === "-v")) {
    process.stdout.write(`${cli.name} ${VERSION}\n`);
    return;
  }
  const configFile = repeatedValues(given, "config").at(-1);
  let settings: FileSetting[] = [];
  const sections: ConfigSections = { path: configFile, values: {} };
  try {
    let rawArgs = given;
    if (configFile !== undefined) {
      // The file's settings go first, so whatever the command line says is read after them.
      const fromFile = configArgs(configFile, cli.name, cli.args, given, cli.repeatable ?? [], cli.fileKeys);
      settings = fromFile.settings;
      sections.values = fromFile.sections;
      rawArgs = [...fromFile.argv, ...given];
    }
    const negatives = rejectUnknownFlags(rawArgs, defs);
    // A negative number where a positional belongs (`client -5`) is that positional, not a flag:
    // hand it to citty after "--" so the command itself can say what is wrong with it.
    const normalized =
      negatives.length === 0 ? rawArgs : [...rawArgs.filter((_, i) => !negatives.includes(i)), "--", ...negatives.map((i) => rawArgs[i]!)];
    let args: ParsedArgs<A>;
    try {
      args = parseArgs(normalized, defs) as ParsedArgs<A>;
    } catch (error) {
      throw new CliError((error as Error).message.replace(/\u001b\[[0-9;]*m/g, ""));
    }
    for (const name of cli.repeatable ?? []) {
      const values = repeatedValues(normalized, name);
      if (values.length > 1) (args as Record<string, unknown>)[name] = values.join(",");
    }
    await cli.run(args, sections);
  } catch (caught) {
    const error = caught instanceof CliError && configFile !== undefined ? inFileTerms(caught, configFile, settings) : caught;
    if (error instanceof CliError) {
      process.stderr.write(`${cli.name}: ${error.message}\n`);
      if (error.exitCode === 64) process.stderr.write(`Run '${cli.name} --help' for usage.\n`);
      process.exit(error.exitCode);
    }
    // Operational failures (a busy socket, an unwritable directory) are one line; the stack only on request.
    const detail = process.env.SWITCHYARD_DEBUG ? ((error as Error)?.stack ?? String(error)) : ((error as Error)?.message ?? String(error));
    process.stderr.write(`${cli.name}: ${detail}\n`);
    process.exit(1);
  }
}

/** Every binary takes `--config FILE`: its table of a TOML file, as flags (see config-file.ts). */
const CONFIG_ARG = (name: string) =>
  ({
    type: "string",
    valueHint: "file",
    description: `Settings from a TOML file: its [${name}] table, keys named as these flags (a flag given here wins)`,
  }) as const;

/** Every value of `--name v` and `--name=v` before "--", in order (citty keeps only the last). */
export function repeatedValues(rawArgs: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (arg === `--${name}` && i + 1 < rawArgs.length) values.push(rawArgs[++i]!);
    else if (arg.startsWith(`--${name}=`)) values.push(arg.slice(name.length + 3));
  }
  return values;
}

/** Throws on a flag the command does not define; returns where negative numbers stand as positionals. */
function rejectUnknownFlags(rawArgs: string[], args: ArgsDef): number[] {
  const negatives: number[] = [];
  const known = new Set<string>();
  const takesValue = new Set<string>();
  for (const [name, def] of Object.entries(args)) {
    if (def.type === "positional") continue;
    const alias = "alias" in def ? def.alias : undefined;
    const names = [name, ...(Array.isArray(alias) ? alias : alias ? [alias] : [])];
    for (const n of names) {
      known.add(n);
      if (def.type === "boolean") known.add(`no-${n}`);
      else takesValue.add(n);
    }
  }
  for (let i = 0; i < rawArgs.length; i++) {
    const arg = rawArgs[i]!;
    if (arg === "--") break;
    if (/^-\d/.test(arg)) negatives.push(i);
    if (!arg.startsWith("-") || arg === "-" || /^-\d/.test(arg)) continue;
    const name = arg.replace(/^--?/, "").split("=")[0]!;
    if (!known.has(name)) throw new CliError(`unknown option ${arg.split("=")[0]}`);
    if (takesValue.has(name) && !arg.includes("=")) {
      const next = rawArgs[i + 1];
      if (next === undefined) throw new CliError(`option --${name} needs a value`);
      i++;
    }
  }
  return negatives;
}
