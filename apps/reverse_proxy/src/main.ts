import { commonArgs, hopArgs, runCli, runRole } from "@switchyard/cli";
import { createLogger } from "@switchyard/log";
import { formatAddress } from "@switchyard/net";
import { resolveProxyConfig } from "./config.ts";
import { createProxy } from "./proxy.ts";

await runCli({
  name: "reverse_proxy",
  description: "Switchyard reverse proxy: validates requests and forwards them to its servers",
  args: {
    id: { type: "string", valueHint: "n", description: "This proxy's number, as in the logs (Reverse Proxy #N)", required: true },
    upstreams: {
      type: "string",
      valueHint: "list",
      description: "This proxy's servers as N=ADDRESS pairs: 1=unix:/tmp/s1.sock,2=tcp://10.0.0.5:7001",
    },
    listen: { type: "string", valueHint: "address", description: "Where to listen (default <run-dir>/reverse_proxy-<id>.sock)" },
    "timeout-ms": { type: "string", valueHint: "ms", description: "Budget of a request that carries none (default 5000)" },
    control: { type: "string", valueHint: "address", description: "The watchdog's control socket (set by the watchdog)" },
    "cache-entries": { type: "string", valueHint: "n", description: "Answer repeated square roots from an LRU cache of this many values; 0: off (default 0)" },
    "cache-bytes": { type: "string", valueHint: "bytes", description: "...and at most this many bytes, 64 a value (default 1048576)" },
    ...hopArgs,
    ...commonArgs,
  },
  repeatable: ["upstream"],
  epilogue: "Example: reverse_proxy --id 1 --listen unix:/tmp/p1.sock --upstreams 1=unix:/tmp/s1.sock,2=unix:/tmp/s2.sock",
  async run(args) {
    const config = resolveProxyConfig(args);
    const log = createLogger({ role: `Reverse Proxy #${config.id}`, level: config.logLevel, format: config.logFormat });
    await runRole({
      log,
      role: "reverse_proxy",
      id: config.id,
      listen: config.listen,
      control: config.control,
      create: () => createProxy(config, log),
    });
    const servers = config.upstreams.map((u) => `#${u.n}`).join(", ");
    log.info(`Started. Listening on ${formatAddress(config.listen)}; servers ${servers}`);
  },
});
