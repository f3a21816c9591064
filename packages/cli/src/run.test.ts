import { afterEach, expect, test } from "bun:test";
import { CliError } from "./errors.ts";
import { repeatedValues, runCli } from "./run.ts";

// runCli prints and exits; capture both instead of leaving the test process.
let out = "";
let err = "";
let exitCode: number | undefined;
const realWrite = { stdout: process.stdout.write, stderr: process.stderr.write, exit: process.exit };
function capture() {
  out = "";
  err = "";
  exitCode = undefined;
  process.stdout.write = ((s: string) => ((out += s), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => ((err += s), true)) as typeof process.stderr.write;
  process.exit = ((code?: number) => {
    exitCode = code;
    throw new Error("exit");
  }) as typeof process.exit;
}
afterEach(() => {
  process.stdout.write = realWrite.stdout;
  process.stderr.write = realWrite.stderr;
  process.exit = realWrite.exit;
});

const cli = (run: (args: Record<string, unknown>) => void = () => {}) => ({
  name: "tool",
  description: "does things",
  args: {
    count: { type: "string" as const, valueHint: "n", description: "How many" },
    verbose: { type: "boolean" as const, description: "Say more" },
  },
  run,
});

test("--help lists every flag and exits 0 without running", async () => {
  capture();
  let ran = false;
  await runCli(cli(() => (ran = true)), ["--help"]);
  expect(ran).toBe(false);
  expect(out).toContain("--count <n>");
  expect(out).toContain("--verbose");
  expect(out).toContain("--help");
});

test("an unknown flag is a usage error (exit 64) naming the flag", async () => {
  capture();
  await runCli(cli(), ["--cuont", "3"]).catch(() => {});
  expect(exitCode).toBe(64);
  expect(err).toContain("unknown option --cuont");
  expect(err).toContain("tool --help");
});

test("a flag without its value is a usage error", async () => {
  capture();
  await runCli(cli(), ["--count"]).catch(() => {});
  expect(exitCode).toBe(64);
  expect(err).toContain("--count needs a value");
});

test("known flags reach run(), and a CliError from run() becomes its exit code", async () => {
  capture();
  let seen: unknown;
  await runCli(cli((args) => (seen = args.count)), ["--count=5", "--verbose"]);
  expect(seen).toBe("5");
  await runCli(cli(() => {
    throw new CliError("broken", 2);
  }), []).catch(() => {});
  expect(exitCode).toBe(2);
  expect(err).toContain("tool: broken");
});

test("a negative number stands as a positional, and a flag's negative value stays the flag's", async () => {
  capture();
  let seen: Record<string, unknown> = {};
  const withId = {
    ...cli((args) => (seen = { id: args.id, count: args.count })),
    args: { id: { type: "positional" as const, description: "Id" }, count: { type: "string" as const, description: "How many" } },
  };
  await runCli(withId, ["-5", "--count", "-5"]);
  expect(seen).toEqual({ id: "-5", count: "-5" });
});

test("a repeatable flag keeps every value, in order (citty alone keeps the last)", () => {
  expect(repeatedValues(["--upstream", "http://a:1", "--x", "y", "--upstream=http://b:2", "--", "--upstream", "c"], "upstream")).toEqual(["http://a:1", "http://b:2"]);
  expect(repeatedValues(["--upstreams", "1=unix:/a"], "upstream")).toEqual([]);
});
