import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ArgsDef } from "citty";
import { configArgs, inFileTerms } from "./config-file.ts";
import { CliError } from "./errors.ts";

const dir = mkdtempSync(join(tmpdir(), "config-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function fileWith(text: string): string {
  const path = join(dir, `c${++files}.toml`);
  writeFileSync(path, text);
  return path;
}

const ARGS: ArgsDef = {
  target: { type: "positional", description: "What" },
  "http-port": { type: "string", description: "Port" },
  upstream: { type: "string", description: "An upstream (repeatable)" },
  flat: { type: "boolean", description: "Flat" },
  policy: { type: "string", alias: "p", description: "Policy" },
};
const read = (text: string, given: string[] = []) => configArgs(fileWith(text), "load_balancer", ARGS, given, ["upstream"]);
const refusal = (text: string): string => {
  try {
    read(text);
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(78);
    return (error as Error).message;
  }
  throw new Error("not refused");
};

test("the binary's table becomes flags: numbers and strings as values, booleans as --x / --no-x, lists as repeated flags", () => {
  const { argv } = read(`
[load_balancer]
http-port = 5001
policy = "round-robin"
flat = true
upstream = ["http://127.0.0.1:8080", "http://127.0.0.1:8081"]

[server]
work-ms = 5
`);
  expect(argv).toEqual(["--http-port", "5001", "--policy", "round-robin", "--flat", "--upstream", "http://127.0.0.1:8080", "--upstream", "http://127.0.0.1:8081"]);
  expect(read("[load_balancer]\nflat = false\n").argv).toEqual(["--no-flat"]);
});

test("keys may be written with underscores; other binaries' tables and an absent table are fine", () => {
  expect(read("[load_balancer]\nhttp_port = 7\n").argv).toEqual(["--http-port", "7"]);
  expect(read("[watchdog]\nproxies = 0\n").argv).toEqual([]);
  expect(read("").argv).toEqual([]);
});

test("a flag on the command line wins: its key in the file is not used (in any spelling, alias or --no- form)", () => {
  const text = "[load_balancer]\nhttp-port = 5001\npolicy = \"random\"\nflat = true\nupstream = [\"http://a:1\"]\n";
  expect(read(text, ["--http-port=6000", "-p", "maglev", "--no-flat", "--upstream", "http://b:2"]).argv).toEqual([]);
  // After "--" nothing is a flag.
  expect(read(text, ["--", "--http-port"]).argv).toContain("--http-port");
});

test("what the command would not take is refused with exit 78, naming the file, the table and the key", () => {
  expect(refusal("[load_balancer]\nnope = 1\n")).toMatch(/c\d+\.toml: \[load_balancer\] unknown key "nope"/);
  expect(refusal("[load_balancer]\ntarget = \"x\"\n")).toContain('unknown key "target"');
  expect(refusal("[load_balancer]\nconfig = \"other.toml\"\n")).toContain('unknown key "config"');
  expect(refusal("[lb]\nx = 1\n")).toContain("unknown table [lb]");
  expect(refusal("load_balancer = 3\n")).toContain("load_balancer must be a table");
  expect(refusal("[load_balancer]\nflat = \"yes\"\n")).toContain('[load_balancer] flat = "yes": must be true or false');
  expect(refusal("[load_balancer]\npolicy = [\"a\", \"b\"]\n")).toContain("takes one value, not a list");
  expect(refusal("[load_balancer]\nhttp-port = { a = 1 }\n")).toContain("must be a string or a number");
  expect(refusal("[load_balancer]\nupstream = [true]\n")).toContain("must be a list of strings or numbers");
  expect(refusal("[load_balancer\n")).toContain("not valid TOML");
  expect(() => configArgs(join(dir, "missing.toml"), "load_balancer", ARGS, [], [])).toThrow(/missing\.toml: cannot read it \(ENOENT\)/);
});

test("a value the command refuses later is told in the file's terms", () => {
  const file = fileWith("[load_balancer]\nhttp-port = 99999\n");
  const { settings } = configArgs(file, "load_balancer", ARGS, [], []);
  const told = inFileTerms(new CliError('--http-port must be an integer from 0 to 65535, got "99999"'), file, settings);
  expect(told.message).toBe(`${file}: [load_balancer] http-port = 99999: --http-port must be an integer from 0 to 65535, got "99999"`);
  expect(told.exitCode).toBe(78);
  // About a flag that did not come from the file: unchanged.
  const other = new CliError("--policy is unknown");
  expect(inFileTerms(other, file, settings)).toBe(other);
});
