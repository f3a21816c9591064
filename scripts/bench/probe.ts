// One sqrt request on a fresh connection: "does this socket serve?" (readiness and respawn checks).
import { Peer, parseAddress } from "@switchyard/net";

/** True when `address` answers sqrt(value) correctly within `timeoutMs` on a new connection. */
export async function sqrtAnswers(address: string, client: number, timeoutMs: number, value = 144): Promise<boolean> {
  const peer = new Peer({ address: parseAddress(address), role: "client", id: client, reconnect: false, connectTimeoutMs: timeoutMs });
  try {
    const body = await peer.request("sqrt", { client, value }, timeoutMs);
    return (body as { result?: unknown } | null)?.result === Math.sqrt(value);
  } catch {
    return false;
  } finally {
    peer.close();
  }
}

/**
 * Polls with short attempts until `address` answers, every `intervalMs`; resolves to the
 * performance.now() of the first correct answer, or undefined when `deadline` (performance.now()) passes.
 */
export async function waitUntilServing(address: string, client: number, deadline: number, intervalMs = 2): Promise<number | undefined> {
  while (performance.now() < deadline) {
    const attemptMs = Math.max(1, Math.min(250, deadline - performance.now()));
    if (await sqrtAnswers(address, client, attemptMs)) return performance.now();
    await Bun.sleep(intervalMs);
  }
  return undefined;
}
