import { type Logger, infoEnabled } from "@switchyard/log";
import { RequestError } from "@switchyard/net";
import { type Tier, createExternalPool, createPolicy, createTier, forward, innerBudget, isIdempotent } from "@switchyard/upstream";
import type { Request } from "@switchyard/wire";
import type { ProxyConfig } from "./config.ts";
import { createHttpRoute } from "./http.ts";
import { illegalValueReason } from "./legality.ts";

/**
 * Validates sqrt values (answering -1 to illegal ones) and forwards the rest to a server of its own;
 * HTTP requests go to its external upstreams when it has any.
 */
export async function createProxy(config: ProxyConfig, log: Logger): Promise<Tier> {
  const policy = createPolicy(config.policy);
  const external =
    config.external.length > 0 ? createExternalPool({ urls: config.external, health: config.health, healthPath: config.healthPath, log }) : undefined;
  let route: ((request: Request) => Promise<unknown>) | undefined;
  const tier = await createTier({
    listen: config.listen,
    role: "reverse_proxy",
    id: config.id,
    log,
    upstreams: config.upstreams,
    label: (n) => `Server #${n}`,
    upstreamRole: "server",
    health: config.health,
    limits: config.limits,
    handle: (pool) => (request) => {
      if (request.op === "http") return (route ??= createHttpRoute({ pool, external, policy, timeoutMs: config.timeoutMs, log }))(request);
      const body = request.body as { client?: unknown; value?: unknown } | null;
      const client = body?.client;
      if (typeof client !== "number" || !Number.isSafeInteger(client) || client < 1) {
        throw new RequestError("bad_request", "client must be a positive integer");
      }
      if (request.op === "sqrt") {
        const reason = illegalValueReason(body?.value);
        if (reason !== undefined) {
          log.info(`Illegal request from Client #${client}. Returning -1.`);
          return { result: -1, reason };
        }
      }
      return forward(pool.members, policy, client, request.op, request.rawBody ?? request.body, innerBudget(request.ttl, config.timeoutMs), {
        noun: "server",
        admission: pool.admission,
        idempotent: isIdempotent(request.op),
        onAttempt(upstream, previous) {
          if (previous) log.warn(`${previous.upstream.label} failed (${previous.error.message}). Retrying Client #${client} on ${upstream.label}`);
          else if (infoEnabled(log)) log.info(`Request from Client #${client}. Forwarding to ${upstream.label}`);
        },
      });
    },
  });
  if (external === undefined) return tier;
  return {
    ...tier,
    async drain(timeoutMs) {
      await tier.drain(timeoutMs);
      external.close();
    },
  };
}
