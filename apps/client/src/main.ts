import { CliError, commonArgs, fleetSocket, formatFloat, parseAddressFlag, parseInteger, parseMillis, resolveRunDir, runCli } from "@switchyard/cli";
import { promptForValue } from "./prompt.ts";
import { roomsSession } from "./rooms.ts";
import { ClientError, askSqrt, openSession } from "./session.ts";
import { parseValue } from "./value.ts";

const write = (text: string) => process.stdout.write(text);

await runCli({
  name: "client",
  description: "Switchyard client: sends one value through the fleet and prints its square root",
  args: {
    id: { type: "positional", description: "Client id, a positive integer (odd ids go to Proxy #1, even to Proxy #2)", required: true },
    value: { type: "string", valueHint: "float", description: "Send this value instead of asking for one" },
    rooms: { type: "boolean", description: "The room reservation client of seeds/004: rooms, timeslots, days, check, reserve, cancel, quit" },
    "cache-ttl-ms": { type: "string", valueHint: "ms", description: "With --rooms: how long a check answer is shown from the cache (default 5000)" },
    connect: { type: "string", valueHint: "address", description: "The load balancer's address (default <run-dir>/load_balancer.sock)" },
    "timeout-ms": { type: "string", valueHint: "ms", description: "How long to wait for the answer (default 10000)" },
    "run-dir": commonArgs["run-dir"],
  },
  epilogue: `Examples:
  client 107                 asks for a value and prints its square root
  echo 16 | client 107       the same with piped input
  client 112 --value 4.0     no prompt
  client 107 --rooms         reserves rooms: "Next command: " reserve ME4326 8:30-9:30 Friday

Exit status: 0 answered, 1 input ended before a value, 2 no fleet running, 3 the fleet failed, 64 usage error.`,
  async run(args) {
    const clientId = parseInteger("client id", args.id, 1, Number.MAX_SAFE_INTEGER);
    const address = parseAddressFlag("--connect", args.connect ?? fleetSocket.loadBalancer(resolveRunDir(args["run-dir"])));
    const timeoutMs = args["timeout-ms"] === undefined ? 10_000 : Math.max(1, parseMillis("--timeout-ms", args["timeout-ms"]));
    let preset: number | undefined;
    if (args.value !== undefined) {
      preset = parseValue(args.value);
      if (preset === undefined) throw new CliError(`--value must be a number, got "${args.value}"`);
    }
    try {
      const peer = await openSession(address, clientId, timeoutMs);
      if (args.rooms === true) {
        const cacheTtlMs = args["cache-ttl-ms"] === undefined ? 5000 : parseMillis("--cache-ttl-ms", args["cache-ttl-ms"]);
        await roomsSession(peer, clientId, console, write, { timeoutMs, cacheTtlMs });
        process.exit(0);
      }
      write(`This is client #${clientId}\n`);
      const value = preset ?? (await promptForValue(console, write));
      if (value === undefined) throw new ClientError("input ended before a value was entered", 1);
      write(`Result: ${formatFloat(await askSqrt(peer, clientId, value, timeoutMs))}\n`);
      process.exit(0);
    } catch (error) {
      if (!(error instanceof ClientError)) throw error;
      process.stderr.write(`client: ${error.message}\n`);
      process.exit(error.exitCode);
    }
  },
});
