import { type Logger, infoEnabled } from "@switchyard/log";
import { RequestError } from "@switchyard/net";
import { type Tier, createPolicy, createTier, forward, innerBudget, isIdempotent } from "@switchyard/upstream";
import type { BalancerConfig } from "./config.ts";

/** Routes each client's requests to a reverse proxy by its policy (client id by default), failing over to another live proxy. */
export function createBalancer(config: BalancerConfig, log: Logger): Promise<Tier> {
  const policy = createPolicy(config.policy);
  // The seed's sample session names the proxy a client would have used; only its rule has one.
  const seedRule = config.policy === "client-id";
  return createTier({
    listen: config.listen,
    role: "load_balancer",
    id: 0,
    log,
    upstreams: config.upstreams,
    label: (n) => `Proxy #${n}`,
    upstreamRole: "reverse_proxy",
    health: config.health,
    limits: config.limits,
    handle: (pool) => (request) => {
      // Route on the envelope's key when the client sent one: the body then stays undecoded bytes.
      const client = request.key ?? (request.body as { client?: unknown } | null)?.client;
      if (typeof client !== "number" || !Number.isSafeInteger(client) || client < 1) {
        throw new RequestError("bad_request", "client must be a positive integer");
      }
      return forward(pool.members, policy, client, request.op, request.rawBody ?? request.body, innerBudget(request.ttl, config.timeoutMs), {
        noun: "reverse proxy",
        admission: pool.admission,
        idempotent: isIdempotent(request.op),
        onAttempt(upstream, previous) {
          if (previous) {
            log.warn(`${previous.upstream.label} failed (${previous.error.message}). Forwarding Client #${client} to ${upstream.label}`);
            return;
          }
          if (!infoEnabled(log)) return;
          // The pool already said once that the preferred proxy is down; per request this is info.
          const preferred = seedRule ? pool.members[(client - 1) % pool.members.length] : undefined;
          if (preferred && preferred !== upstream) {
            log.info(`Request from Client #${client}. ${preferred.label} is unavailable. Forwarding to ${upstream.label}`);
          } else {
            log.info(`Request from Client #${client}. Forwarding to ${upstream.label}`);
          }
        },
      });
    },
  });
}
