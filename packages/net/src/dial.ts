import type { Socket } from "bun";
import { DEFAULT_MAX_FRAME, type DecodeOptions } from "@switchyard/wire";
import { type Address, formatAddress } from "./address.ts";
import { Connection, type ConnectionEvents, describeSocketError, socketHandlers } from "./connection.ts";
import { NetError } from "./errors.ts";

const handlers = socketHandlers();

function connectTo(address: Address): Promise<Socket<Connection>> {
  return address.kind === "unix"
    ? Bun.connect<Connection>({ unix: address.path, socket: handlers })
    : Bun.connect<Connection>({ hostname: address.host, port: address.port, socket: handlers });
}

/** Opens one connection (no hello sent yet); rejects with NetError("unavailable") within `timeoutMs`. */
export async function dial(
  address: Address,
  events: ConnectionEvents,
  timeoutMs: number,
  maxFrame = DEFAULT_MAX_FRAME,
  decode: DecodeOptions = {},
): Promise<Connection> {
  let timer: Timer | undefined;
  let timedOut = false;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      timedOut = true;
      reject(new NetError("unavailable", `${formatAddress(address)}: connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
  });
  const attempt = connectTo(address).then(
    (socket: Socket<Connection>) => {
      const conn = new Connection(socket, events, maxFrame, decode);
      socket.data = conn;
      if (timedOut) conn.destroy();
      return conn;
    },
    (error: unknown) => {
      throw new NetError("unavailable", `${formatAddress(address)}: ${describeSocketError(error)}`);
    },
  );
  try {
    return await Promise.race([attempt, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
