import { CliError, POLICY_NAMES, commonArgs, ensureRunDir, resolveRunDir, tuningArgs, runCli } from "@switchyard/cli";
import { createLogger, writeOut } from "@switchyard/log";
import { resolveWatchdogConfig } from "./config.ts";
import { fetchStatus, renderStatus } from "./status-command.ts";
import { createWatchdog } from "./watchdog.ts";

const SIGNAL_WORDS = { SIGTSTP: "SIGTSTP from user", SIGINT: "SIGINT from user", SIGTERM: "SIGTERM" } as const;

await runCli({
  name: "watchdog",
  description: "Switchyard watchdog: starts the fleet, restarts what dies, and shuts it down in order",
  args: {
    command: { type: "positional", required: false, valueHint: "status", description: "status: show the running fleet of --run-dir (like pm2 ls) and exit" },
    json: { type: "boolean", description: "With status: print the fleet's status as JSON" },
    proxies: { type: "string", valueHint: "n", description: "Reverse proxies, 0 to 64; 0: the load balancer routes to the servers itself (default 2)" },
    servers: { type: "string", valueHint: "n", description: "Servers under each reverse proxy (all servers with --proxies 0); may be 0 (default 3)" },
    "work-ms": { type: "string", valueHint: "ms", description: "Simulated work per request on every server (default 0)" },
    rooms: { type: "boolean", default: true, description: "Every server also runs the room reservation service of seeds/004 (./client ID --rooms)", negativeDescription: "Servers answer square roots and HTTP only: no rooms group, no heartbeats between them" },
    "data-dir": { type: "string", valueHint: "dir", description: "Where every server keeps the rooms reservations (default $SWITCHYARD_DATA_DIR, else ~/.local/state/switchyard)" },
    "bin-dir": { type: "string", valueHint: "dir", description: "Where the other binaries are (default: next to the watchdog)" },
    "ready-timeout-ms": { type: "string", valueHint: "ms", description: "A child not ready by then is killed and restarted (default 10000)" },
    "stop-timeout-ms": { type: "string", valueHint: "ms", description: "Drain time after SIGTERM before SIGKILL (default 5000)" },
    "lb-policy": { type: "string", valueHint: "policy", description: `How the load balancer picks a proxy (default client-id): ${POLICY_NAMES}` },
    "proxy-policy": { type: "string", valueHint: "policy", description: "How each proxy picks a server (default random); options as name:key=value,…" },
    "http-host": { type: "string", valueHint: "host", description: "Where the load balancer serves HTTP and the /rep, /add, /rm API (default 127.0.0.1)" },
    "http-port": { type: "string", valueHint: "port", description: "Its HTTP port, 0 to 65535; 0: any free port; off: no HTTP (default 5000)" },
    "admin-token": { type: "string", valueHint: "token", description: "Bearer token the load balancer requires on /add and /rm; $SWITCHYARD_ADMIN_TOKEN keeps it out of ps (default: none)" },
    upstream: {
      type: "string",
      valueHint: "url",
      description: "An external HTTP service, http://host:port, for the reverse proxies (the load balancer with --proxies 0); repeatable",
    },
    "health-path": { type: "string", valueHint: "path", description: "The path health checks GET on --upstream services (default /healthcheck)" },
    "http-key": { type: "string", valueHint: "rule", description: "What the load balancer routes HTTP requests on: request, address, header:NAME (default request)" },
    "timeout-ms": { type: "string", valueHint: "ms", description: "Budget of a request at the load balancer and the proxies (default: theirs, 8000 and 5000)" },
    ...tuningArgs,
    ...commonArgs,
  },
  repeatable: ["upstream"],
  epilogue: `Stop the fleet with Ctrl-Z, Ctrl-C, or kill -TSTP/-INT/-TERM <pid>: servers stop first, then the
reverse proxies, then the load balancer. A second Ctrl-C kills everything at once.
Servers can be added and removed while the fleet runs, through the load balancer's /add and /rm.
A member that exits with code 78 (a configuration error, such as a busy HTTP port) before it was ever
ready stops the whole fleet; the watchdog then exits 1.
\`watchdog status\` (with the fleet's --run-dir) shows every process: role, name, pid, state, restarts,
uptime, requests, memory; --json for scripts.
Example: watchdog --proxies 3 --servers 2 --run-dir /tmp/fleet`,
  async run(args) {
    if (args.command !== undefined) {
      if (args.command !== "status") throw new CliError(`unknown command "${args.command}" (the one command is status)`, 64);
      const status = await fetchStatus(resolveRunDir(args["run-dir"]));
      writeOut(1, args.json === true ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
      return;
    }
    const config = resolveWatchdogConfig(args);
    const log = createLogger({ role: "Watchdog", level: config.logLevel, format: config.logFormat });
    ensureRunDir(config.runDir);
    const watchdog = createWatchdog(config, log);

    let stopping = false;
    for (const signal of ["SIGTSTP", "SIGINT", "SIGTERM"] as const) {
      process.on(signal, () => {
        if (stopping) {
          log.warn(`Received ${SIGNAL_WORDS[signal]} again. Killing all processes now.`);
          watchdog.kill();
          process.exit(1);
        }
        stopping = true;
        log.info(`Received ${SIGNAL_WORDS[signal]}. Terminating all processes.`);
        watchdog.shutdown().then(
          () => {
            log.info("All processes terminated. Good bye.");
            process.exit(0);
          },
          (error: unknown) => {
            log.error(`Shutdown failed: ${(error as Error).message}. Killing all processes.`);
            watchdog.kill();
            process.exit(1);
          },
        );
      });
    }
    process.on("SIGHUP", () => {
      // As nginx's reload: the load balancer re-reads its TLS certificate; nothing else restarts.
      const pid = watchdog.children.find((child) => child.spec.role === "load_balancer")?.pid;
      log.info(`Received SIGHUP. Passing it to the load balancer${pid === undefined ? " (not running)" : ""}; the fleet keeps running.`);
      if (pid !== undefined) process.kill(pid, "SIGHUP");
    });

    log.info(`Started (pid ${process.pid}, run directory ${config.runDir})`);
    if ((await watchdog.start()) === "failed") {
      log.info("All processes terminated.");
      process.exit(1);
    }
  },
});
