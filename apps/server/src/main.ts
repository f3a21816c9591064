import { commonArgs, runCli, runRole } from "@switchyard/cli";
import { formatAddress } from "@switchyard/net";
import { createLogger } from "@switchyard/log";
import { resolveServerConfig } from "./config.ts";
import { createServer } from "./server.ts";

await runCli({
  name: "server",
  repeatable: ["join"],
  description: "Switchyard server: answers square-root requests and the HTTP endpoints /home and /heartbeat over the wire protocol",
  args: {
    id: { type: "string", description: "This server's number, as in the logs (Server #N)", valueHint: "n", required: true },
    name: { type: "string", valueHint: "name", description: "The replica's name in the load balancer's /rep (default \"Server <id>\")" },
    listen: { type: "string", valueHint: "address", description: "Where to listen: unix:/path.sock or tcp://host:port (default <run-dir>/server-<id>.sock)" },
    "work-ms": { type: "string", valueHint: "ms", description: "Simulated work per request, without blocking other requests (default 0)" },
    control: { type: "string", valueHint: "address", description: "The watchdog's control socket (set by the watchdog)" },
    rooms: { type: "boolean", default: true, description: "Run the room reservation service of seeds/004 (the group, its election and replication)", negativeDescription: "No room reservation service: square roots and HTTP only" },
    "election-id": { type: "string", valueHint: "n", description: "This server's id in the rooms group's elections: the highest leads (default: its pid)" },
    "group-dir": { type: "string", valueHint: "dir", description: "Where the rooms group's members register (default <run-dir>/group)" },
    "data-dir": { type: "string", valueHint: "dir", description: "Where reservations are kept (default $SWITCHYARD_DATA_DIR or ~/.local/state/switchyard)" },
    join: { type: "string", valueHint: "address", description: "A server of the rooms group on another host (tcp://host:port; repeatable): joined through it, beside the registry directory" },
    "heartbeat-timeout-ms": { type: "string", valueHint: "ms", description: "A heartbeat to the group leader unanswered this long starts an election (default 1000)" },
    ...commonArgs,
  },
  epilogue: "Example: server --id 1 --listen unix:/tmp/s1.sock",
  async run(args) {
    const config = resolveServerConfig(args);
    const role = `Server #${config.id}`;
    const log = createLogger({ role, level: config.logLevel, format: config.logFormat });
    await runRole({ log, role: "server", id: config.id, listen: config.listen, control: config.control, create: () => createServer(config, log) });
    const named = config.name === `Server ${config.id}` ? "" : ` as ${config.name}`;
    log.info(`Started${named}. Listening on ${formatAddress(config.listen)}`);
  },
});
