// Every binary's command line: --help, --version, and what happens with a flag it does not know.
import { describe, expect, test } from "bun:test";
import { Spawned, binary, makeTempDir } from "@switchyard/testing";
import { type BinaryName, cleanUpAfterEach } from "./_support.ts";

cleanUpAfterEach();

const COMMON = ["--log-level", "--log-format", "--run-dir"];
/** The flags each binary documents (apps/<name>/src/main.ts), which --help must list. */
const FLAGS: Record<BinaryName, string[]> = {
  watchdog: ["--proxies", "--servers", "--work-ms", "--bin-dir", "--ready-timeout-ms", "--stop-timeout-ms", ...COMMON],
  load_balancer: ["--upstreams", "--listen", "--timeout-ms", "--control", ...COMMON],
  reverse_proxy: ["--id", "--upstreams", "--listen", "--timeout-ms", "--control", ...COMMON],
  server: ["--id", "--listen", "--work-ms", "--control", ...COMMON],
  client: ["--value", "--connect", "--timeout-ms", "--run-dir"],
};

async function run(name: BinaryName, args: string[]) {
  const proc = new Spawned([binary(name), ...args]);
  const code = await proc.exited(15_000);
  return { code, stdout: proc.stdoutLines.join("\n"), stderr: proc.stderrLines.join("\n") };
}

for (const name of Object.keys(FLAGS) as BinaryName[]) {
  describe(`./${name}`, () => {
    test("--help exits 0 and lists every flag, --help and --version", async () => {
      const help = await run(name, ["--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: ${name}`);
      for (const flag of [...FLAGS[name], "--help", "--version"]) expect(help.stdout).toContain(flag);
    });

    test("--version prints its name and a version number, exit 0", async () => {
      const version = await run(name, ["--version"]);
      expect(version.code).toBe(0);
      expect(version.stdout).toMatch(new RegExp(`^${name} \\d+\\.\\d+\\.\\d+\\S*$`));
    });

    test("an unknown flag: exit 64, the flag named on stderr, nothing started", async () => {
      // Given everything else it needs, so the unknown flag is the only thing wrong; in an empty run dir.
      const runDir = makeTempDir();
      const needs: Record<BinaryName, string[]> = {
        watchdog: ["--run-dir", runDir],
        load_balancer: ["--upstreams", `1=unix:${runDir}/p1.sock`, "--run-dir", runDir],
        reverse_proxy: ["--id", "1", "--upstreams", `1=unix:${runDir}/s1.sock`, "--run-dir", runDir],
        server: ["--id", "1", "--run-dir", runDir],
        client: ["1", "--value", "4", "--run-dir", runDir],
      };
      const bad = await run(name, [...needs[name], "--frobnicate", "3"]);
      expect(bad.code).toBe(64);
      expect(bad.stderr).toContain("--frobnicate");
      expect(bad.stderr).toContain(`${name} --help`);
      expect(bad.stdout).toBe("");
    });
  });
}

describe("bad flag values are usage errors too", () => {
  const cases: Array<[BinaryName, string[], string]> = [
    ["watchdog", ["--proxies", "65"], "--proxies"],
    ["watchdog", ["--servers", "many"], "--servers"],
    ["server", ["--id", "1", "--work-ms", "-3"], "--work-ms"],
    ["server", ["--id", "x"], "--id"],
    ["server", ["--id", "1", "--listen", "http://example.com"], "--listen"],
    ["reverse_proxy", ["--id", "1", "--upstreams", "nonsense"], "--upstreams"],
    ["load_balancer", ["--upstreams", "1=unix:/tmp/a.sock,1=unix:/tmp/b.sock"], "--upstreams"],
    ["client", ["1", "--timeout-ms", "soon"], "--timeout-ms"],
  ];
  for (const [name, args, flag] of cases) {
    test(`${name} ${args.join(" ")}: exit 64 naming ${flag}`, async () => {
      const bad = await run(name, [...args, "--run-dir", makeTempDir()]);
      expect(bad.code).toBe(64);
      expect(bad.stderr).toContain(flag);
    });
  }

  test("server without --id and load_balancer without --upstreams: exit 64 naming the missing flag", async () => {
    const server = await run("server", ["--run-dir", makeTempDir()]);
    expect(server.code).toBe(64);
    expect(server.stderr).toMatch(/\bid\b/i);
    const balancer = await run("load_balancer", ["--run-dir", makeTempDir()]);
    expect(balancer.code).toBe(64);
    expect(balancer.stderr).toMatch(/upstreams/i);
  });
});
