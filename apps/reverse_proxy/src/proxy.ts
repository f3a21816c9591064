import { type Logger, infoEnabled } from "@switchyard/log";
import { RequestError } from "@switchyard/net";
import { LruCache, type Pool, type Tier, createExternalPool, createPolicy, createTier, forward, innerBudget, isIdempotent, upstreamStats } from "@switchyard/upstream";
import { RawBody, type Request, decodeValue } from "@switchyard/wire";
import { CACHE_ENTRY_BYTES, type ProxyConfig } from "./config.ts";
import { createHttpRoute } from "./http.ts";
import { illegalValueReason } from "./legality.ts";

/**
 * Validates sqrt values (answering -1 to illegal ones) and forwards the rest to a server of its own;
 * HTTP requests go to its external upstreams when it has any.
 */
export async function createProxy(config: ProxyConfig, log: Logger): Promise<Tier> {
  const policy = createPolicy(config.policy);
  // The square root is deterministic: a value answered once can be answered again from memory.
  const cache = config.cache === undefined ? undefined : new LruCache<number, number>(config.cache);
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
    stats: () => ({
      upstreams: external === undefined ? [] : upstreamStats("external", external.members),
      ...(cache === undefined ? {} : { cache: { hits: cache.hits, misses: cache.misses, entries: cache.size, bytes: cache.bytes } }),
    }),
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
        if (cache !== undefined) {
          const value = body?.value as number;
          const hit = cache.get(value);
          if (hit !== undefined) {
            if (infoEnabled(log)) log.info(`Request from Client #${client}. Answering ${value} from the cache.`);
            return { result: hit, cached: true };
          }
          return send(pool, client, request).then((answer) => remember(cache, value, answer));
        }
      }
      return send(pool, client, request);
    },
  });
  /** One request to a server of this proxy, by the policy, with retries. */
  function send(pool: Pool, client: number, request: Request): Promise<unknown> {
    return forward(pool.members, policy, client, request.op, request.rawBody ?? request.body, innerBudget(request.ttl, config.timeoutMs), {
      noun: "server",
      admission: pool.admission,
      idempotent: isIdempotent(request.op),
      onAttempt(upstream, previous) {
        if (previous) log.warn(`${previous.upstream.label} failed (${previous.error.message}). Retrying Client #${client} on ${upstream.label}`);
        else if (infoEnabled(log)) log.info(`Request from Client #${client}. Forwarding to ${upstream.label}`);
      },
    });
  }
  if (external === undefined) return tier;
  return {
    ...tier,
    async drain(timeoutMs) {
      await tier.drain(timeoutMs);
      external.close();
    },
  };
}

/** Keeps a server's result for `value` (the answer passes on unchanged, as the bytes it came in). */
function remember(cache: LruCache<number, number>, value: number, answer: unknown): unknown {
  const body = answer instanceof RawBody ? decodeValue(answer) : answer;
  const result = (body as { result?: unknown } | null)?.result;
  if (typeof result === "number") cache.set(value, result, CACHE_ENTRY_BYTES);
  return answer;
}
