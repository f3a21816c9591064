// Builds one standalone binary: `bun scripts/build.ts <name>` (the Makefile calls it per target).
// Compiled binaries must not pick up a stray .env or bunfig.toml from the user's directory.
import { resolve } from "node:path";

const BINARIES = ["watchdog", "load_balancer", "reverse_proxy", "server", "client"] as const;
type Binary = (typeof BINARIES)[number];

function isBinary(name: string | undefined): name is Binary {
  return BINARIES.includes(name as Binary);
}

const name = process.argv[2];
if (!isBinary(name)) {
  console.error(`usage: bun scripts/build.ts <${BINARIES.join("|")}>`);
  process.exit(64);
}

const root = resolve(import.meta.dir, "..");
const version = (await Bun.file(resolve(root, "package.json")).json()).version as string;
const result = await Bun.build({
  entrypoints: [resolve(root, "apps", name, "src/main.ts")],
  compile: {
    outfile: resolve(root, name),
    autoloadDotenv: false,
    autoloadBunfig: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
  minify: { syntax: true, whitespace: true },
  sourcemap: "none",
  define: { SWITCHYARD_VERSION: JSON.stringify(version) },
});
if (!result.success) {
  for (const message of result.logs) console.error(message);
  process.exit(1);
}
console.log(`built ./${name}`);
