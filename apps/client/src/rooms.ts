import { type Peer, NetError } from "@switchyard/net";
import { parseCommand } from "@switchyard/rooms";
import { RoomsCache } from "./rooms-cache.ts";
import { ClientError } from "./session.ts";

const PROMPT = "Next command: ";

/**
 * The seed's rooms client (seeds/004): reads commands, prints each answer prefixed with where it
 * came from, `(From servers): ` or `(From cache): `. Ends after `quit` (answered "bye") or at the
 * end of input. Returns the cache, for its counts.
 */
export async function roomsSession(peer: Peer, clientId: number, lines: AsyncIterable<string>, write: (text: string) => void, options: { timeoutMs: number; cacheTtlMs: number }): Promise<RoomsCache> {
  const cache = new RoomsCache(options.cacheTtlMs);
  // Idempotency keys: this session's requests are numbered, under a session id of their own.
  const session = crypto.randomUUID().slice(0, 8);
  let seq = 0;
  write(PROMPT);
  for await (const line of lines) {
    const command = parseCommand(line);
    if (typeof command === "string") {
      write(`${command}\n${PROMPT}`);
      continue;
    }
    const cached = cache.get(command);
    if (cached !== undefined) {
      write(`(From cache): ${cached.join("\n")}\n`);
    } else {
      seq++;
      let answer: { lines: string[]; version: number };
      try {
        answer = await askRetrying(peer, { client: clientId, session, seq, ...command }, clientId, options.timeoutMs);
      } catch (error) {
        const detail = error instanceof NetError && error.remoteCode ? `${error.remoteCode}: ${error.message}` : (error as Error).message;
        // Not a hang and not the end: the user may try again.
        write(`(Error): the servers could not answer (${detail})\n${PROMPT}`);
        continue;
      }
      if (!Array.isArray(answer?.lines) || typeof answer.version !== "number") throw new ClientError("the servers sent an answer without lines", 3);
      cache.put(command, answer.lines, answer.version);
      write(`(From servers): ${answer.lines.join("\n")}\n`);
    }
    if (command.cmd === "quit") return cache;
    write(PROMPT);
  }
  write("\n");
  return cache;
}

/**
 * One request, sent again (with the same number: the servers recognise a repeat) while the group is
 * between leaders and says so (a retryable error), until it is answered or `timeoutMs` has passed.
 */
async function askRetrying(peer: Peer, body: Record<string, unknown>, clientId: number, timeoutMs: number): Promise<{ lines: string[]; version: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      // Attempts of at most 3 s: a request stuck with a leader that just failed is sent again in time.
      return (await peer.request("rooms", body, Math.max(1, Math.min(3000, deadline - performance.now())), clientId)) as { lines: string[]; version: number };
    } catch (error) {
      // Timeouts too: the request number makes a repeat harmless even if the first one was carried out.
      const again = error instanceof NetError && (error.retryable || error.code === "timeout" || error.remoteCode === "timeout");
      if (!again || performance.now() + 100 >= deadline) throw error;
      await Bun.sleep(100);
    }
  }
}
