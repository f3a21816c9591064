import { type Logger, infoEnabled } from "@switchyard/log";
import { type RequestHandler, RequestError, Streamed } from "@switchyard/net";
import {
  type ExternalPool,
  type HttpExchangeRequest,
  type HttpReply,
  type Pool,
  type Policy,
  type Tier,
  type Upstream,
  createExternalPool,
  createPolicy,
  createTier,
  forwardExternal,
  forward,
  innerBudget,
  isIdempotent,
  isIdempotentMethod,
  pathOf,
  randomRequestKey,
  upstreamStats,
  validateHttpResponse,
} from "@switchyard/upstream";
import { RawBody, type Request, decodeValue } from "@switchyard/wire";
import type { BalancerConfig } from "./config.ts";
import { createRateLimiter } from "./rate-limit.ts";
import { selectPool } from "./routing.ts";
import { type RouteTrace, type Traffic, details, errorCode, newTrace, traced } from "./traffic.ts";

export interface Balancer extends Tier {
  /** Routes one HTTP request from the front door to the tier below and resolves to its answer; `trace` learns where it went. */
  routeHttp(exchange: HttpExchangeRequest, key: number, client: string, stream: ReadableStream<Uint8Array> | undefined, trace?: RouteTrace): Promise<HttpReply>;
}

/** Routes each client's requests to a reverse proxy (or, flat, a server) by its policy, failing over to another live one. */
export async function createBalancer(config: BalancerConfig, log: Logger, traffic: Traffic): Promise<Balancer> {
  const policy = createPolicy(config.policy);
  // --rate-limit for wire clients, per client id (HTTP's is per address, at the front door).
  const clientLimiter = config.rateLimit === undefined ? undefined : createRateLimiter(config.rateLimit);
  // The seed's sample session names the proxy a client would have used; only its rule has one.
  const seedRule = config.policy === "client-id";
  const noun = config.flat ? "server" : "reverse proxy";
  // The flat topology of seeds/001: HTTP goes straight to external upstreams when there are any.
  const external =
    config.external.length > 0 ? createExternalPool({ urls: config.external, health: config.health, healthPath: config.healthPath, log }) : undefined;
  // The config file's named pools, each with its own health checks and its own instance of the policy.
  const named = new Map([...config.routing.pools].map(([name, urls]) => [name, createExternalPool({ urls, health: config.health, healthPath: config.healthPath, log })]));
  const closePools = () => {
    external?.close();
    for (const pool of named.values()) pool.close();
  };
  let tier: Tier;
  try {
    tier = await createTier({
      listen: config.listen,
      role: "load_balancer",
      id: 0,
      log,
      upstreams: config.upstreams,
      label: (n) => (config.flat ? `Server #${n}` : `Proxy #${n}`),
      upstreamRole: config.flat ? "server" : "reverse_proxy",
      health: config.health,
      limits: config.limits,
      stats: () => ({
        upstreams: [...upstreamStats("external", external?.members ?? []), ...[...named].flatMap(([name, pool]) => upstreamStats(name, pool.members))],
        rateLimited: traffic.rateLimited.http + traffic.rateLimited.wire,
        http: { ...traffic.http },
      }),
      handle: (pool) => (traffic.logging ? logged(pool) : (request) => route(pool, request, undefined)),
      onAnswered: (_op, outcome, durationMs) => traffic.answered("wire", outcome, durationMs),
    });
  } catch (error) {
    closePools();
    throw error;
  }
  /** One wire request to the tier below; throws RequestError for a request it refuses. */
  function route(pool: Pool, request: Request, trace: RouteTrace | undefined): unknown {
    const onAttempt = (upstream: Upstream, previous: { upstream: Upstream; error: Error } | undefined) => traced(trace, upstream, previous !== undefined);
    if (request.op === "http") {
      // An HTTP request that came over the wire: it carries its key, or gets a request id.
      const key = request.key ?? randomRequestKey();
      return forward(pool.members, policy, key, "http", request.rawBody ?? request.body, innerBudget(request.ttl, config.timeoutMs), {
        noun,
        admission: pool.admission,
        idempotent: false,
        stream: request.stream,
        onAttempt(upstream, previous) {
          onAttempt(upstream, previous);
          if (previous) log.warn(`${previous.upstream.label} failed (${previous.error.message}). Retrying on ${upstream.label}`);
        },
      });
    }
    const client = clientOf(request);
    if (typeof client !== "number" || !Number.isSafeInteger(client) || client < 1) {
      throw new RequestError("bad_request", "client must be a positive integer");
    }
    const wait = clientLimiter?.take(client) ?? 0;
    if (wait > 0) {
      traffic.limited("wire");
      throw new RequestError("rate_limited", `Client #${client} is over its rate limit; retry in ${wait} ms`);
    }
    return forward(pool.members, policy, client, request.op, request.rawBody ?? request.body, innerBudget(request.ttl, config.timeoutMs), {
      noun,
      admission: pool.admission,
      idempotent: isIdempotent(request.op),
      onAttempt(upstream, previous) {
        onAttempt(upstream, previous);
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
  }
  /** With --access-log: each wire request is traced on its way and written once answered. */
  function logged(pool: Pool): RequestHandler {
    return (request) => {
      const startedAt = performance.now();
      const trace = newTrace();
      const write = (status: string) => {
        const client = request.op === "http" ? undefined : clientOf(request);
        traffic.logWire(status, performance.now() - startedAt, details(trace, typeof client === "number" ? `Client #${client}` : "-", request.op));
      };
      let answer: unknown;
      try {
        answer = route(pool, request, trace);
      } catch (error) {
        write(errorCode(error));
        throw error;
      }
      if (answer instanceof Promise) answer.then(() => write("ok"), (error: unknown) => write(errorCode(error)));
      else write("ok");
      return answer;
    };
  }
  const routeDefault = external ? externalRouter(external, policy, config, log, "external") : wireRouter(tier.pool, policy, config, log, noun);
  const routers = new Map([...named].map(([name, pool]) => [name, externalRouter(pool, createPolicy(config.policy), config, log, name)]));
  const { rules } = config.routing;
  return {
    ...tier,
    routeHttp:
      rules.length === 0
        ? routeDefault
        : (exchange, key, client, stream, trace) => {
            const route = routers.get(selectPool(rules, exchange.method, pathOf(exchange.target), exchange.headers)) ?? routeDefault;
            return route(exchange, key, client, stream, trace);
          },
    async drain(timeoutMs) {
      await tier.drain(timeoutMs);
      closePools();
    },
  };
}

function externalRouter(external: ExternalPool, policy: Policy, config: BalancerConfig, log: Logger, name: string): Balancer["routeHttp"] {
  return (exchange, key, client, stream, trace) => {
    const describe = () => `${exchange.method} ${exchange.target} from ${client}`;
    if (trace !== undefined) trace.pool = name;
    return forwardExternal(external.members, policy, key, exchange, stream, config.timeoutMs, {
      onAttempt(member, previous) {
        traced(trace, member, previous !== undefined);
        if (previous) log.warn(`${previous.member.label} failed (${previous.error.message}). Retrying ${describe()} on ${member.label}`);
        else if (infoEnabled(log)) log.info(`${describe()}. Forwarding to ${member.label}`);
      },
      onFailed: (status, detail) => log.warn(`${describe()}: ${status} (${detail})`),
    });
  };
}

function wireRouter(pool: Pool, policy: Policy, config: BalancerConfig, log: Logger, noun: string): Balancer["routeHttp"] {
  return async (exchange, key, client, stream, trace) => {
    const describe = () => `${exchange.method} ${exchange.target} from ${client}`;
    const answer = await forward(pool.members, policy, key, "http", exchange, config.timeoutMs, {
      noun,
      admission: pool.admission,
      idempotent: isIdempotentMethod(exchange.method),
      stream,
      onAttempt(upstream: Upstream, previous) {
        traced(trace, upstream, previous !== undefined);
        if (previous) log.warn(`${previous.upstream.label} failed (${previous.error.message}). Retrying ${describe()} on ${upstream.label}`);
        else if (infoEnabled(log)) log.info(`${describe()}. Forwarding to ${upstream.label}`);
      },
    });
    if (answer instanceof Streamed) return { response: validateHttpResponse(readHead(answer.head)), stream: answer.body };
    return { response: validateHttpResponse(readHead(answer)) };
  };
}

/** An answer's head as it came from the tier below: the bytes a hop did not decode, or a value. */
function readHead(head: unknown): unknown {
  return head instanceof RawBody ? decodeValue(head) : head;
}

/** The client a wire request is from: the envelope's key when the client sent one (the body then stays undecoded bytes), else the body's. */
function clientOf(request: Request): unknown {
  return request.key ?? (request.body as { client?: unknown } | null)?.client;
}
