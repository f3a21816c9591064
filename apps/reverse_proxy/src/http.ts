import { type Logger, infoEnabled } from "@switchyard/log";
import { Streamed } from "@switchyard/net";
import type { Request } from "@switchyard/wire";
import {
  type ExternalPool,
  type Pool,
  type Policy,
  forward,
  forwardExternal,
  innerBudget,
  isIdempotentMethod,
  randomRequestKey,
  validateHttpRequest,
} from "@switchyard/upstream";

export interface HttpRouteOptions {
  pool: Pool;
  /** External HTTP upstreams: when there are any, HTTP requests go to them instead of the servers. */
  external: ExternalPool | undefined;
  policy: Policy;
  timeoutMs: number;
  log: Logger;
}

/**
 * Answers a wire request with op "http": to an external upstream over real HTTP when the proxy has
 * any (seeds/001), otherwise to one of its servers over the wire, its bytes passed on unread.
 */
export function createHttpRoute(options: HttpRouteOptions): (request: Request) => Promise<unknown> {
  const { pool, external, policy, log } = options;
  return async (request) => {
    // The load balancer routed it on a key; a request that came without one gets a request id.
    const key = request.key ?? randomRequestKey();
    const exchange = validateHttpRequest(request.body);
    const budget = innerBudget(request.ttl, options.timeoutMs);
    const describe = () => `${exchange.method} ${exchange.target}`;
    if (external !== undefined) {
      const reply = await forwardExternal(external.members, policy, key, exchange, request.stream, budget, {
        onAttempt(member, previous) {
          if (previous) log.warn(`${previous.member.label} failed (${previous.error.message}). Retrying ${describe()} on ${member.label}`);
          else if (infoEnabled(log)) log.info(`${describe()}. Forwarding to ${member.label}`);
        },
        onFailed: (status, detail) => log.warn(`${describe()}: ${status} (${detail})`),
      });
      return reply.stream === undefined ? reply.response : new Streamed(reply.response, reply.stream);
    }
    return forward(pool.members, policy, key, "http", request.rawBody ?? request.body, budget, {
      noun: "server",
      admission: pool.admission,
      // A GET lost with a dying server is retried here, on another server of this proxy.
      idempotent: isIdempotentMethod(exchange.method),
      stream: request.stream,
      onAttempt(upstream, previous) {
        if (previous) log.warn(`${previous.upstream.label} failed (${previous.error.message}). Retrying ${describe()} on ${upstream.label}`);
        else if (infoEnabled(log)) log.info(`${describe()}. Forwarding to ${upstream.label}`);
      },
    });
  };
}
