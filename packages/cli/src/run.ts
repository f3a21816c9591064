import { type ArgsDef, type ParsedArgs, parseArgs } from "citty";
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
  run(args: ParsedArgs<A>): Promise<unknown> | unknown;
}

/**
 * citty parses; this adds what a shipped binary needs: unknown flags are errors, usage errors are
 * one line on stderr and exit 64, other failures exit 1 (or a CliError's own code).
 */
export async function runCli<A extends ArgsDef>(cli: Cli<A>, rawArgs = process.argv.slice(2)): Promise<void> {
  if (rawArgs.includes("--help") || rawArgs.includes("-h")) {
    process.stdout.write(renderUsage(cli.name, VERSION, cli.description, cli.args, cli.epilogue));
    return;
  }
  if (rawArgs.length === 1 && (rawArgs[0] === "--version" || rawArgs[0] === "-v")) {
    process.stdout.write(`${cli.name} ${VERSION}\n`);
    return;
  }
  try {
    const negatives = rejectUnknownFlags(rawArgs, cli.args);
    // A negative number where a positional belongs (`client -5`) is that positional, not a flag:
    // hand it to citty after "--" so the command itself can say what is wrong with it.
    const normalized =
      negatives.length === 0 ? rawArgs : [...rawArgs.filter((_, i) => !negatives.includes(i)), "--", ...negatives.map((i) => rawArgs[i]!)];
    let args: ParsedArgs<A>;
    try {
      args = parseArgs(normalized, cli.args);
    } catch (error) {
      throw new CliError((error as Error).message.replace(/\u001b\[[0-9;]*m/g, ""));
    }
    for (const name of cli.repeatable ?? []) {
      const values = repeatedValues(normalized, name);
      if (values.length > 1) (args as Record<string, unknown>)[name] = values.join(",");
    }
    await cli.run(args);
  } catch (error) {
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
