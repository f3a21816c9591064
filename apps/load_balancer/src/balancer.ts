import { type Logger, infoEnabled } from "@switchyard/log";
import { type Listener, RequestError, listen } from "@switchyard/net";
import { type Pool, type Policy, clientIdPolicy, createPool, forward, innerBudget } from "@switchyard/upstream";
import type { Request } from "@switchyard/wire";
import type { BalancerConfig } from "./config.ts";

export interface Balancer {
  readonly listener: Listener;
  readonly pool: Pool;
  drain(timeoutMs: number): Promise<void>;
}

/** Routes each client's requests to a reverse proxy by client id, failing over to another live proxy. */
export async function createBalancer(config: BalancerConfig, log: Logger, policy: Policy = clientIdPolicy()): Promise<Balancer> {
  const pool = createPool({
    upstreams: config.upstreams,
    label: (n) => `Proxy #${n}`,
    role: "load_balancer",
    id: 0,
    log,
  });

  const handle = (request: Request) => {
    const client = (request.body as { client?: unknown } | null)?.client;
    if (typeof client !== "number" || !Number.isSafeInteger(client) || client < 1) {
      throw new RequestError("bad_request", "client must be a positive integer");
    }
    return forward(pool.members, policy, client, request.op, request.body, innerBudget(request.ttl, config.timeoutMs), {
      onAttempt(upstream, previous) {
        if (previous) {
          log.warn(`${previous.upstream.label} failed (${previous.error.message}). Forwarding Client #${client} to ${upstream.label}`);
          return;
        }
        const preferred = pool.members[(client - 1) % pool.members.length];
        if (preferred && preferred !== upstream) {
          log.warn(`${preferred.label} is unavailable. Forwarding Client #${client} to ${upstream.label}`);
        } else if (infoEnabled(log)) {
          log.info(`Request from Client #${client}. Forwarding to ${upstream.label}`);
        }
      },
    });
  };

  const listener = await listen({ address: config.listen, role: "load_balancer", id: 0, handle, onProblem: (text) => log.warn(text) });

  return {
    listener,
    pool,
    async drain(timeoutMs) {
      listener.goAway("shutting down");
      await listener.drained(timeoutMs);
      listener.close();
      pool.close();
    },
  };
}
