import { timingSafeEqual } from "node:crypto";
import type { Logger } from "@switchyard/log";
import { pathOf } from "@switchyard/upstream";
import type { AddressList } from "./address-list.ts";
import type { HttpCache } from "./http-cache.ts";
import { type FleetApi, FleetError, type Replica } from "./fleet-api.ts";
import { targetOf } from "./request-target.ts";

export interface AdminOptions {
  /** The fleet behind the load balancer (the watchdog's, or a hand-started load balancer's own upstreams). */
  fleet(): FleetApi;
  /** --admin-token: when set, /add and /rm need `Authorization: Bearer <token>` (from any address); else loopback only. */
  token: string | undefined;
  /** --admin-allow: the addresses the admin API answers (instead of loopback only); undefined: the default. */
  allow?: AddressList;
  /** The front door's HTTP cache, for /cache; undefined when it is off. */
  httpCache?: HttpCache;
  /** Extra per-replica facts for `/rep?verbose=1` (the load balancer's own view of its upstreams' health). */
  health?(replica: Replica): boolean | undefined;
  log: Logger;
}

/** An admin call's payload is a small JSON object; more than this is refused unread. */
const MAX_PAYLOAD = 64 * 1024;

/** The load balancer's own endpoints of seeds/002: /rep, /add, /rm (and /heartbeat, answered by the front door). */
export interface AdminEndpoints {
  rep(request: Request, address: string): Promise<Response>;
  add(request: Request, address: string): Promise<Response>;
  rm(request: Request, address: string): Promise<Response>;
  /** GET: the HTTP cache's entries, bytes, hits, misses and hit ratio; DELETE: purge all, or `?target=/path`. */
  cache(request: Request, address: string): Promise<Response>;
}

export function createAdminEndpoints(options: AdminOptions): AdminEndpoints {
  const change = async (
    request: Request,
    address: string,
    method: "POST" | "DELETE",
    act: (fleet: FleetApi, payload: unknown) => Promise<Replica[]>,
    what: string,
  ): Promise<Response> => {
    if (request.method !== method) return failure(405, `<Error> ${pathOf(targetOf(request.url))} takes ${method}`, { allow: method });
    const refused = refusal(request, address, options.token, options.allow);
    if (refused) return refused;
    try {
      const payload = await readPayload(request);
      const replicas = await act(options.fleet(), payload);
      options.log.info(`${what} from ${address}: now ${replicas.length} replicas`);
      return success(summary(replicas));
    } catch (error) {
      return fleetFailure(error);
    }
  };
  return {
    async rep(request, address) {
      if (request.method !== "GET" && request.method !== "HEAD") return failure(405, "<Error> /rep takes GET", { allow: "GET, HEAD" });
      const target = targetOf(request.url);
      const verbose = new URLSearchParams(target.slice(pathOf(target).length)).get("verbose");
      const detailed = verbose === "1" || verbose === "true";
      // The richer form shows pids and addresses: only to those who may administer the fleet.
      if (detailed) {
        const refused = refusal(request, address, options.token, options.allow);
        if (refused) return refused;
      }
      try {
        const replicas = await options.fleet().replicas();
        if (!detailed) return success(summary(replicas));
        return success({ N: replicas.length, replicas: replicas.map((r) => ({ ...r, healthy: options.health?.(r) })) });
      } catch (error) {
        return fleetFailure(error);
      }
    },
    add: (request, address) => change(request, address, "POST", (fleet, payload) => fleet.add(payload), "/add"),
    rm: (request, address) => change(request, address, "DELETE", (fleet, payload) => fleet.remove(payload), "/rm"),
    async cache(request, address) {
      const refused = refusal(request, address, options.token, options.allow);
      if (refused) return refused;
      const cache = options.httpCache;
      if (cache === undefined) return failure(404, "<Error> the HTTP cache is off (start the load balancer with --http-cache-entries)");
      if (request.method === "GET" || request.method === "HEAD") return success(cache.stats);
      if (request.method !== "DELETE") return failure(405, "<Error> /cache takes GET or DELETE", { allow: "GET, HEAD, DELETE" });
      const target = new URL(request.url).searchParams.get("target") ?? undefined;
      const purged = cache.purge(target);
      options.log.info(`/cache purge from ${address}: ${purged} ${target === undefined ? "entries (all)" : `entries for ${target}`}`);
      return success({ purged, ...cache.stats });
    },
  };
}

/** The seed's /rep message: {N, replicas: [names]}. */
function summary(replicas: readonly Replica[]): { N: number; replicas: string[] } {
  return { N: replicas.length, replicas: replicas.map((r) => r.name) };
}

/**
 * 403 for a caller outside --admin-allow (or, without it and without a token, not on loopback), 401
 * for a missing or wrong token; undefined when allowed. With --admin-allow and a token, both must hold.
 */
export function refusal(request: Request, address: string, token: string | undefined, allow?: AddressList): Response | undefined {
  if (allow !== undefined && !allow.has(address)) return failure(403, "<Error> the admin API does not answer this address (--admin-allow)");
  if (token === undefined) {
    if (allow !== undefined || isLoopback(address)) return undefined;
    return failure(403, "<Error> the admin API answers only loopback clients (start the fleet with --admin-token to allow others)");
  }
  const given = request.headers.get("authorization") ?? "";
  const match = /^Bearer\s+(\S+)\s*$/i.exec(given);
  if (match && sameSecret(match[1]!, token)) return undefined;
  return failure(401, "<Error> the admin API needs Authorization: Bearer <token>", { "www-authenticate": 'Bearer realm="switchyard"' });
}

export function isLoopback(address: string): boolean {
  return address === "::1" || address.startsWith("127.") || address.startsWith("::ffff:127.");
}

/** Compares through fixed-length digests, so the time taken says nothing about the token. */
function sameSecret(given: string, token: string): boolean {
  const digest = (text: string) => new Bun.CryptoHasher("sha256").update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

async function readPayload(request: Request): Promise<unknown> {
  const tooLarge = () => new FleetError(413, `<Error> the payload is larger than ${MAX_PAYLOAD} bytes`);
  if (Number(request.headers.get("content-length") ?? "0") > MAX_PAYLOAD) throw tooLarge();
  // Read at most MAX_PAYLOAD bytes, whatever the client declared (a chunked body declares nothing).
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    for await (const chunk of request.body) {
      size += chunk.length;
      if (size > MAX_PAYLOAD) throw tooLarge();
      chunks.push(chunk);
    }
  }
  const text = new TextDecoder().decode(Buffer.concat(chunks));
  if (text.trim() === "") throw new FleetError(400, '<Error> a JSON payload is required, e.g. {"n": 2, "hostnames": ["S5"]}');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new FleetError(400, `<Error> the payload is not valid JSON (${(error as Error).message})`);
  }
}

function fleetFailure(error: unknown): Response {
  if (error instanceof FleetError) return failure(error.status, error.message);
  return failure(500, `<Error> ${(error as Error).message}`);
}

function success(message: unknown): Response {
  return Response.json({ message, status: "successful" });
}

export function failure(status: number, message: string, headers: Record<string, string> = {}): Response {
  return Response.json({ message, status: "failure" }, { status, headers });
}
