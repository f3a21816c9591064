import { commonArgs, hopArgs, runCli, runRole } from "@switchyard/cli";
import { createLogger } from "@switchyard/log";
import { formatAddress } from "@switchyard/net";
import { createBalancer } from "./balancer.ts";
import { resolveBalancerConfig } from "./config.ts";

await runCli({
  name: "load_balancer",
  description: "Switchyard load balancer: routes client requests to reverse proxies by client id",
  args: {
    upstreams: {
      type: "string",
      valueHint: "list",
      description: "The reverse proxies as N=ADDRESS pairs: 1=unix:/tmp/p1.sock,2=tcp://10.0.0.7:7100",
      required: true,
    },
    listen: { type: "string", valueHint: "address", description: "Where clients connect (default <run-dir>/load_balancer.sock)" },
    "timeout-ms": { type: "string", valueHint: "ms", description: "Budget of a request that carries none (default 8000)" },
    control: { type: "string", valueHint: "address", description: "The watchdog's control socket (set by the watchdog)" },
    ...hopArgs,
    ...commonArgs,
  },
  epilogue: "Example: load_balancer --listen unix:/tmp/lb.sock --upstreams 1=unix:/tmp/p1.sock,2=unix:/tmp/p2.sock",
  async run(args) {
    const config = resolveBalancerConfig(args);
    const log = createLogger({ role: "Load Balancer", level: config.logLevel, format: config.logFormat });
    await runRole({
      log,
      role: "load_balancer",
      id: 0,
      listen: config.listen,
      control: config.control,
      create: () => createBalancer(config, log),
    });
    const proxies = config.upstreams.map((u) => `#${u.n}`).join(", ");
    log.info(`Started. Listening on ${formatAddress(config.listen)}; proxies ${proxies}`);
  },
});
