import { formatFloat } from "@switchyard/cli";
import { type Logger, infoEnabled } from "@switchyard/log";
import { type Listener, RequestError, formatAddress, listen } from "@switchyard/net";
import { validateHttpRequest } from "@switchyard/upstream";
import type { Request } from "@switchyard/wire";
import type { ServerConfig } from "./config.ts";
import { createHttpEndpoints } from "./http.ts";
import { type RoomsService, startRoomsService } from "./rooms/service.ts";
import { validateSqrtRequest } from "./sqrt.ts";

export interface Server {
  readonly listener: Listener;
  /** Stops taking requests, finishes the ones in flight (up to `timeoutMs`), then closes. */
  drain(timeoutMs: number): Promise<void>;
}

/** The square-root service of seeds/000 and the HTTP endpoints of seeds/002. */
export async function createServer(config: ServerConfig, log: Logger): Promise<Server> {
  const sqrt = (request: Request) => {
    const { client, value } = validateSqrtRequest(request.body);
    const result = Math.sqrt(value);
    if (infoEnabled(log)) log.info(`Received the value ${value} from Client #${client}. Returning ${formatFloat(result)}.`);
    if (config.workMs <= 0) return { result };
    return Bun.sleep(config.workMs).then(() => ({ result }));
  };

  const endpoints = createHttpEndpoints(config.id);
  const http = (request: Request) => {
    const exchange = validateHttpRequest(request.body);
    const { status, body } = endpoints.answer(exchange);
    if (infoEnabled(log)) log.info(`${exchange.method} ${exchange.target}. Returning ${status}.`);
    if (config.workMs <= 0) return body;
    return Bun.sleep(config.workMs).then(() => body);
  };

  let rooms: RoomsService | undefined;
  const listener = await listen({
    address: config.listen,
    role: "server",
    id: config.id,
    handle(request) {
      if (request.op === "sqrt") return sqrt(request);
      if (request.op === "http") return http(request);
      if (rooms !== undefined && request.op === "rooms") return rooms.handle(request.body);
      if (rooms !== undefined && request.op.startsWith("group.")) return rooms.onGroupMessage(request.op, request.body);
      if (request.op === "rooms") throw new RequestError("unknown_op", "this server does not run the room reservation service (it, or its fleet, was started with --no-rooms)");
      throw new RequestError("unknown_op", `unknown operation "${request.op}" (this server answers: sqrt, http${rooms === undefined ? "" : ", rooms"})`);
    },
    // The rooms group's messages between servers are not requests served: they stay out of the load the server reports.
    counted: (op) => !op.startsWith("group."),
    onProblem: (text) => log.warn(text),
  });

  // Joined only once it listens: a member the others can find must be one they can reach.
  const group = config.group;
  if (group !== undefined) {
    rooms = startRoomsService({
      serverId: config.id,
      electionId: group.electionId,
      address: formatAddress(config.listen),
      groupDir: group.dir,
      dataFile: group.dataFile,
      heartbeatTimeoutMs: group.heartbeatTimeoutMs,
      join: group.join,
      log,
    });
  }

  return {
    listener,
    async drain(timeoutMs) {
      listener.goAway("shutting down");
      if (!(await listener.drained(timeoutMs))) {
        log.warn(`${listener.stats().inflight} requests still in flight after ${timeoutMs} ms; closing anyway`);
      }
      listener.close();
      rooms?.close();
    },
  };
}
