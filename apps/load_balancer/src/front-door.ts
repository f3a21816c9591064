import type { Server } from "bun";
import { CliError } from "@switchyard/cli";
import { addForwarded, newRequestId, stripHopByHop } from "@switchyard/http";
import type { Logger } from "@switchyard/log";
import { NetError, RequestError } from "@switchyard/net";
import { type HeaderPair, type HttpExchangeRequest, type HttpReply, INLINE_BODY } from "@switchyard/upstream";
import { type AdminEndpoints, failure } from "./admin.ts";
import { targetOf } from "./request-target.ts";

export interface FrontDoorOptions {
  host: string;
  /** 0 asks the kernel for a free port (tests); `url` then tells which one. */
  port: number;
  admin: AdminEndpoints;
  /**
   * Carries one request to the tier below, its body inline in `exchange` or as `stream`; rejects
   * with NetError/RequestError when it cannot.
   */
  route(exchange: HttpExchangeRequest, key: number, client: string, stream: ReadableStream<Uint8Array> | undefined): Promise<HttpReply>;
  /** The policy's key for this request (see http-key.ts). */
  key(headers: Headers, address: string): number;
  log: Logger;
}

export interface FrontDoor {
  /** "http://127.0.0.1:5000", with the port actually bound. */
  readonly url: string;
  /** Stops accepting connections; requests in flight finish. */
  stop(): Promise<void>;
}

/**
 * The load balancer's HTTP side (seeds/002): Bun's native server parses HTTP; /rep, /add, /rm and
 * /heartbeat are answered here; every other request travels to the tier below as a wire request
 * with op "http", carrying the forwarding headers a proxy adds (X-Forwarded-*, X-Request-Id).
 */
export function openFrontDoor(options: FrontDoorOptions): FrontDoor {
  const { admin, log } = options;
  const addressOf = (request: Request, server: Server<undefined>) => server.requestIP(request)?.address ?? "unknown";

  const forward = async (request: Request, server: Server<undefined>): Promise<Response> => {
    const address = addressOf(request, server);
    const target = targetOf(request.url);
    const received: HeaderPair[] = [];
    request.headers.forEach((value, name) => received.push([name, value]));
    const headers = addForwarded(stripHopByHop(received), {
      clientAddress: address,
      proto: "http",
      host: request.headers.get("host") ?? undefined,
      requestId: newRequestId(),
      edge: true,
    });
    const exchange: HttpExchangeRequest = { method: request.method, target, headers };
    // A small body of known length travels inline; any other streams through every hop.
    let stream: ReadableStream<Uint8Array> | undefined;
    if (request.body !== null) {
      const declared = Number(request.headers.get("content-length") ?? Number.NaN);
      if (declared <= INLINE_BODY) {
        const body = await request.bytes();
        if (body.length > 0) exchange.body = body;
      } else {
        stream = request.body;
      }
    }
    try {
      const reply = await options.route(exchange, options.key(request.headers, address), address, stream);
      const { status, headers, body } = reply.response;
      return new Response(reply.stream ?? body ?? null, { status, headers });
    } catch (error) {
      const [status, message] = statusOf(error);
      if (status >= 500) log.warn(`${request.method} ${target} from ${address}: ${status} (${message})`);
      return failure(status, `<Error> ${message}`);
    }
  };

  let server: Server<undefined>;
  try {
    server = Bun.serve({
      hostname: options.host,
      port: options.port,
      // A proxy streams bodies of any size; its own limits (issue-level config) apply per route.
      maxRequestBodySize: Number.MAX_SAFE_INTEGER,
      routes: {
        "/heartbeat": (request) => (request.method === "GET" || request.method === "HEAD" ? new Response(null, { status: 200 }) : failure(405, "<Error> /heartbeat takes GET", { allow: "GET, HEAD" })),
        "/rep": (request, srv) => admin.rep(request, addressOf(request, srv)),
        "/add": (request, srv) => admin.add(request, addressOf(request, srv)),
        "/rm": (request, srv) => admin.rm(request, addressOf(request, srv)),
      },
      fetch: forward,
      error(error) {
        log.error(`HTTP front door: ${error.message}`);
        return failure(500, "<Error> internal error in the load balancer");
      },
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    const why = code === "EADDRINUSE" ? "the port is already in use" : (error as Error).message;
    // Exit code 78 (EX_CONFIG): the watchdog stops the fleet instead of restarting into the same error.
    throw new CliError(`--http-port ${options.port}: cannot listen on ${options.host}:${options.port}: ${why}`, 78);
  }
  return {
    url: `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${server.port}`,
    stop: () => server.stop(false),
  };
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
