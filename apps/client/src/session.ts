import { type Address, NetError, Peer, formatAddress } from "@switchyard/net";

/** What went wrong, mapped to the client's exit statuses by main.ts. */
export class ClientError extends Error {
  override readonly name = "ClientError";
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
  }
}

/** Connects to the load balancer, failing with exit status 2 and a hint when no fleet answers. */
export async function openSession(address: Address, clientId: number, timeoutMs: number): Promise<Peer> {
  const { promise, resolve, reject } = Promise.withResolvers<Peer>();
  const peer = new Peer({
    address,
    role: "client",
    id: clientId,
    reconnect: false,
    connectTimeoutMs: Math.min(timeoutMs, 2500),
    timeoutMs,
    // The wire matches each answer to its request; one that matches none is a second (or late) reply: seeds/004 wants it reported.
    onStrayAnswer(id) {
      process.stderr.write(`client: error: more than one reply (or a reply too late) to request ${id}\n`);
    },
    onStateChange(state, reason) {
      if (state === "open") resolve(peer);
      else if (state === "closed" || state === "down") {
        reject(new ClientError(`no load balancer answers at ${formatAddress(address)} (${reason}). Is the fleet running? Start it with ./watchdog`, 2));
      }
    },
  });
  return promise;
}

/**
 * Sends one value and returns the result; -1 means the proxy found the value illegal. If the
 * connection was lost on the way (the load balancer restarted while the user typed), it connects
 * again once and resends: sqrt is safe to repeat.
 */
export async function askSqrt(peer: Peer, clientId: number, value: number, timeoutMs: number): Promise<number> {
  try {
    return await askOnce(peer, clientId, value);
  } catch (error) {
    if (!(error instanceof NetError) || !error.retryable || error.code === "timeout") throw describe(error);
    peer.close();
    const again = await openSession(peer.address, clientId, timeoutMs);
    try {
      return await askOnce(again, clientId, value);
    } catch (second) {
      throw describe(second);
    }
  }
}

async function askOnce(peer: Peer, clientId: number, value: number): Promise<number> {
  const body = (await peer.request("sqrt", { client: clientId, value }, undefined, clientId)) as { result?: unknown } | null;
  if (typeof body?.result !== "number") throw new ClientError("the fleet sent an answer without a result", 3);
  return body.result;
}

function describe(error: unknown): ClientError {
  if (error instanceof ClientError) return error;
  const detail = error instanceof NetError && error.remoteCode ? `${error.remoteCode}: ${error.message}` : (error as Error).message;
  return new ClientError(`the fleet could not answer (${detail})`, 3);
}
