import { CliError } from "@switchyard/cli";
import { type HeaderList, type HttpServerLimits, type IncomingRequest, type TlsFiles, ListenError, type OutgoingResponse, addForwarded, newRequestId, serveHttp, stripHopByHop } from "@switchyard/http";
import type { Logger } from "@switchyard/log";
import { NetError, RequestError } from "@switchyard/net";
import { type HttpExchangeRequest, type HttpReply, INLINE_BODY, pathOf } from "@switchyard/upstream";
import { type AdminEndpoints, failure } from "./admin.ts";
import { type CompressionOptions, compressAnswer } from "./compression.ts";
import type { HttpCache } from "./http-cache.ts";
import { type RouteTrace, type Traffic, details, newTrace } from "./traffic.ts";
import type { Views } from "./views.ts";

export interface FrontDoorOptions {
  host: string;
  /** 0 asks the kernel for a free port (tests); `url` then tells which one. */
  port: number;
  admin: AdminEndpoints;
  /**
   * Carries one request to the tier below, its body inline in `exchange` or as `stream`; rejects
   * with NetError/RequestError when it cannot.
   */
  route(exchange: HttpExchangeRequest, key: number, client: string, stream: ReadableStream<Uint8Array> | undefined, trace: RouteTrace): Promise<HttpReply>;
  /** /stats, /events, /metrics and /dashboard. */
  views: Views;
  /** Counts every request (and writes the access log). */
  traffic: Traffic;
  /** Speak HTTPS with this certificate (--tls-cert, --tls-key). */
  tls?: TlsFiles;
  /** The shared HTTP cache (--http-cache-entries); default none. */
  cache?: HttpCache;
  /** Answers compressed for clients that accept it (--compress); default none. */
  compression?: CompressionOptions;
  /** Rate limits: milliseconds until a routed request could be admitted, 0 now; default none. */
  throttle?(request: IncomingRequest): number;
  /** Whether a client address may use the front door at all (--allow, --deny); default all. */
  admit?(address: string): boolean;
  /** Limits and timeouts of the HTTP server (its defaults for what is not set). */
  limits?: Partial<HttpServerLimits>;
  /** The policy's key for this request (see http-key.ts); names in `headers` are lower-cased. */
  key(headers: HeaderList, address: string): number;
  log: Logger;
}

export interface FrontDoor {
  /** "http://127.0.0.1:5000" (https with TLS), with the port actually bound. */
  readonly url: string;
  /** New connections get this certificate; open ones keep theirs. Throws on a bad one (the old stays). */
  reloadTls(tls: TlsFiles): void;
  /** Stops accepting connections; requests in flight finish (for at most `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

type AdminEndpoint = AdminEndpoints["rep"];

/** What clients are told when the tier below failed: the status's reason, never an internal address or name (those go to the log). */
const PUBLIC_REASON: Record<number, string> = {
  502: "bad gateway: the upstream could not be reached or its answer was broken",
  503: "no upstream available",
  504: "the upstream did not answer in time",
};

/** Answer headers that tell what runs behind the front door: dropped, as HAProxy's `http-response del-header Server`. */
const INTERNAL_HEADERS: ReadonlySet<string> = new Set(["server", "x-powered-by", "x-aspnet-version", "x-aspnetmvc-version"]);

/**
 * The load balancer's HTTP side (seeds/002), on the raw-socket HTTP/1.1 server of
 * @switchyard/http: /rep, /add, /rm and /heartbeat are answered here; every other request travels
 * to the tier below (as a wire request with op "http", or to an external upstream), carrying the
 * forwarding headers a proxy adds (X-Forwarded-*, X-Request-Id).
 */
export function openFrontDoor(options: FrontDoorOptions): FrontDoor {
  const { admin, log, views, traffic } = options;

  const { cache } = options;
  const finish = (request: IncomingRequest, answer: OutgoingResponse): OutgoingResponse => {
    if (options.compression === undefined || request.method === "HEAD") return answer;
    return compressAnswer(answer, request.headers.find(([name]) => name === "accept-encoding")?.[1], options.compression);
  };
  /** Through the cache when it is on and the request may use it: a fresh copy, or the upstream's answer (stored when it may be). */
  const forward = async (request: IncomingRequest, trace: RouteTrace): Promise<OutgoingResponse> => {
    const proxy = (request: IncomingRequest) => proxyTo(request, trace);
    if (cache === undefined || !cache.applies(request)) return finish(request, await proxy(request));
    const hit = cache.lookup(request);
    if (hit !== undefined) {
      trace.pool = "cache";
      return finish(request, hit);
    }
    const answer = await cache.coalesce(
      request,
      async () => {
        const fetched = await proxy(request);
        const { body } = fetched;
        const whole = body === null || body === undefined ? undefined : body instanceof Uint8Array ? body : typeof body === "string" ? Buffer.from(body) : null;
        if (whole !== null) cache.offer(request, fetched.status, fetched.headers ?? [], whole);
        return { ...fetched, headers: [...(fetched.headers ?? []), ["X-Cache", "MISS"] as const] };
      },
      () => cache.lookup(request, false),
    );
    return finish(request, answer);
  };

  const proxyTo = async (request: IncomingRequest, trace: RouteTrace): Promise<OutgoingResponse> => {
    const { address, target } = request;
    const headers = addForwarded(stripHopByHop(request.headers), { clientAddress: address, proto: options.tls ? "https" : "http", host: request.host, requestId: newRequestId(), edge: true });
    // addForwarded ends with the X-Request-Id the request travels under (the client's, or ours).
    trace.id = headers[headers.length - 1]?.[1] ?? "-";
    const exchange: HttpExchangeRequest = { method: request.method, target, headers };
    // A small body of known length arrives whole and travels inline; any other streams through every hop.
    if (request.bytes !== undefined && request.bytes.length > 0) exchange.body = request.bytes;
    try {
      const reply = await options.route(exchange, options.key(request.headers, address), address, request.body ?? undefined, trace);
      const { status, headers: answerHeaders, body } = reply.response;
      return { status, headers: answerHeaders.filter(([name]) => !INTERNAL_HEADERS.has(name.toLowerCase())), body: reply.stream ?? body ?? null };
    } catch (error) {
      const [status, detail] = statusOf(error);
      log.warn(`${request.method} ${target} from ${address}: ${status} (${detail})`);
      return answerOf(failure(status, `<Error> ${PUBLIC_REASON[status] ?? "bad gateway"}`));
    }
  };

  /** The paths the load balancer answers itself: seeds/002's admin API, the cache, and the views. Every other path is routed. */
  const own = new Map<string, (request: IncomingRequest) => OutgoingResponse | Promise<OutgoingResponse>>([
    ["/heartbeat", (request) => (request.method === "GET" || request.method === "HEAD" ? { status: 200 } : answerOf(failure(405, "<Error> /heartbeat takes GET", { allow: "GET, HEAD" })))],
    ["/rep", (request) => callAdmin(admin.rep, request)],
    ["/add", (request) => callAdmin(admin.add, request)],
    ["/rm", (request) => callAdmin(admin.rm, request)],
    ["/cache", (request) => callAdmin(admin.cache, request)],
    ["/stats", views.stats],
    ["/events", views.events],
    ["/metrics", views.metrics],
    ["/dashboard", views.dashboard],
  ]);
  const dispatch = (request: IncomingRequest, trace: RouteTrace): OutgoingResponse | Promise<OutgoingResponse> => {
    const endpoint = own.get(pathOf(request.target));
    if (endpoint !== undefined) {
      trace.pool = "admin";
      return endpoint(request);
    }
    const wait = options.throttle?.(request) ?? 0;
    if (wait === 0) return forward(request, trace);
    traffic.limited("http");
    return tooManyRequests(wait);
  };
  /** Every request is counted (and logged with --access-log) once its answer, or a streamed answer's head, is ready. */
  const handler = (request: IncomingRequest): OutgoingResponse | Promise<OutgoingResponse> => {
    const startedAt = traffic.begin();
    const trace = newTrace();
    const done = (status: number) => traffic.end(status, startedAt, () => details(trace, request.address, `${request.method} ${request.target}`));
    let answer: OutgoingResponse | Promise<OutgoingResponse>;
    try {
      answer = dispatch(request, trace);
    } catch (error) {
      done(500);
      throw error;
    }
    if (!(answer instanceof Promise)) {
      done(answer.status);
      return answer;
    }
    return answer.then(
      (settled) => {
        done(settled.status);
        return settled;
      },
      (error: unknown) => {
        done(500);
        throw error;
      },
    );
  };

  const busyLog = everySecond((count) => log.warn(`HTTP front door: ${count} connection(s) over --max-connections ${options.limits?.maxConnections} refused (503)`));
  const deniedLog = everySecond((count, address) => log.warn(`HTTP front door: ${count} connection(s) from addresses --allow/--deny refuse (403), such as ${address}`));
  try {
    const server = serveHttp({
      host: options.host,
      port: options.port,
      handler,
      tls: options.tls,
      // Bodies up to the wire's inline size arrive whole; larger ones stream (a proxy has no body limit of its own).
      limits: { ...options.limits, bufferBodyBytes: INLINE_BODY },
      admit: options.admit,
      onRefused: (why, address) => (why === "address" ? deniedLog(address) : busyLog()),
      onError: (error, request) => log.error(`HTTP front door: ${request.method} ${request.target}: ${(error as Error)?.message ?? String(error)}`),
    });
    return {
      url: `${options.tls ? "https" : "http"}://${hostInUrl(options.host)}:${server.port}`,
      reloadTls: (tls) => server.reloadTls(tls),
      stop: (graceMs) => server.stop(graceMs),
    };
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    // Exit code 78 (EX_CONFIG): the watchdog stops the fleet instead of restarting into the same error.
    throw new CliError(`--http-port ${options.port}: cannot listen on ${options.host}:${options.port}: ${error.message}`, 78);
  }
}

const hostInUrl = (host: string) => (host.includes(":") ? `[${host}]` : host);

/**
 * The plain-HTTP port of an HTTPS front door (--http-redirect-port): every request is answered
 * 308 to the same host, path and query on HTTPS (308 keeps the method and body, unlike 301).
 */
export function openRedirect(host: string, port: number, httpsPort: number): FrontDoor {
  const redirect = (request: IncomingRequest): OutgoingResponse => {
    const name = (request.host ?? host).replace(/:\d+$/, "");
    const location = `https://${name}${httpsPort === 443 ? "" : `:${httpsPort}`}${request.target === "*" ? "/" : request.target}`;
    return { status: 308, headers: [["Location", location], ["Content-Type", "text/plain"]], body: `Redirecting to ${location}\n` };
  };
  try {
    const server = serveHttp({ host, port, handler: redirect });
    return { url: `http://${hostInUrl(host)}:${server.port}`, reloadTls: () => {}, stop: (graceMs) => server.stop(graceMs) };
  } catch (error) {
    if (!(error instanceof ListenError)) throw error;
    throw new CliError(`--http-redirect-port ${port}: cannot listen on ${host}:${port}: ${error.message}`, 78);
  }
}

/** Calls `report` with how many events happened (and the last one's detail), at most once a second: a flood is a log line a second. */
function everySecond(report: (count: number, detail: string) => void): (detail?: string) => void {
  let count = 0;
  let last = "";
  let timer: Timer | undefined;
  return (detail = "") => {
    count++;
    last = detail;
    if (timer !== undefined) return;
    report(count, last);
    count = 0;
    timer = setTimeout(() => {
      timer = undefined;
      if (count > 0) report(count, last);
      count = 0;
    }, 1000);
    timer.unref();
  };
}

/**
 * The admin API works on fetch's Request and Response (rare calls, easy to test): the request is
 * rebuilt as one, on a fixed origin so that the client's Host can never change the path it reads.
 */
async function callAdmin(endpoint: AdminEndpoint, request: IncomingRequest): Promise<OutgoingResponse> {
  const headers = stripHopByHop(request.headers).filter(([name]) => name !== "content-length");
  const body = request.method === "GET" || request.method === "HEAD" ? null : (request.bytes ?? request.body);
  return answerOf(await endpoint(new Request(`http://load-balancer${request.target}`, { method: request.method, headers, body }), request.address));
}

async function answerOf(response: Response | Promise<Response>): Promise<OutgoingResponse> {
  const answer = await response;
  return { status: answer.status, headers: [...answer.headers], body: new Uint8Array(await answer.arrayBuffer()) };
}

/** 429 with Retry-After in whole seconds (at least 1), as a rate-limited client of nginx or HAProxy gets. */
function tooManyRequests(waitMs: number): Promise<OutgoingResponse> {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return answerOf(failure(429, `<Error> too many requests: over the rate limit, retry in ${seconds} s`, { "retry-after": String(seconds) }));
}

/**
 * The status a proxy answers for a request the tier below could not answer, as nginx and HAProxy do:
 * 503 when no upstream is available, 504 when the upstream did not answer in time, 502 otherwise.
 */
export function statusOf(error: unknown): [number, string] {
  const message = (error as Error)?.message ?? String(error);
  const code = error instanceof NetError ? (error.code === "remote" ? error.remoteCode : error.code) : error instanceof RequestError ? error.code : undefined;
  switch (code) {
    case "timeout":
      return [504, message];
    case "unavailable":
    case "overloaded":
    case "shutting_down":
      return [503, message];
    default:
      return [502, message];
  }
}
