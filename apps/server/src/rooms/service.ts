import type { Logger } from "@switchyard/log";
import { NetError, Peer, RequestError, parseAddress } from "@switchyard/net";
import { validateCommand } from "@switchyard/rooms";
import { type GroupTransport, Group, type Member, type RoomsAnswer } from "./group.ts";
import { GroupRegistry } from "./registry.ts";
import { RoomStore } from "./store.ts";

export interface RoomsServiceOptions {
  /** The server number (Server #N): the wire identity of its group connections. */
  serverId: number;
  electionId: number;
  /** This server's own address, as the other members reach it. */
  address: string;
  groupDir: string;
  dataFile: string;
  heartbeatTimeoutMs: number;
  /** --join: addresses of servers of the group elsewhere (other hosts), asked for the members they know. */
  join: readonly string[];
  log: Logger;
}

export interface RoomsService {
  /** A client's rooms request ({client, seq, cmd, room?, slot?, day?}). */
  handle(body: unknown): Promise<RoomsAnswer>;
  /** A message of the group (ops "group.*") from another server. */
  onGroupMessage(op: string, body: unknown): Promise<unknown>;
  close(): void;
}

/** The replicated room reservation service of seeds/004 on one server: its store, its registry entry, its part in the group. */
export function startRoomsService(options: RoomsServiceOptions): RoomsService {
  const store = new RoomStore(options.dataFile);
  const self: Member = { id: options.electionId, address: options.address };
  const registry = new GroupRegistry(options.groupDir, self);
  registry.join();
  const peers = new Map<string, Peer>();
  const transport: GroupTransport = {
    async send(member, op, body, timeoutMs) {
      let peer = peers.get(member.address);
      if (peer === undefined) {
        peer = new Peer({ address: parseAddress(member.address), role: "server", id: options.serverId, timeoutMs, connectTimeoutMs: timeoutMs, backoff: { initialMs: 50, maxMs: 500 } });
        peers.set(member.address, peer);
      }
      try {
        // `to`: a member that registered at this address earlier (and died) is not the one answering now (0: a --join seed, whoever it is).
        return await peer.request(op, member.id === 0 ? body : { ...(body as object), to: member.id }, timeoutMs);
      } catch (error) {
        if (error instanceof NetError && error.code === "remote") throw new RequestError(error.remoteCode ?? "remote", error.message);
        throw error;
      }
    },
  };
  const timeout = options.heartbeatTimeoutMs;
  const group = new Group({
    self,
    store,
    transport,
    discover: () => registry.members(),
    timings: { heartbeatTimeoutMs: timeout, heartbeatMs: Math.max(20, Math.round(timeout / 4)), electionTimeoutMs: Math.max(50, Math.round(timeout / 2)) },
    log: options.log,
  });
  // --join: announce this server to the seeds and learn the members they know, now and then again
  // (a seed that was down, members that joined since); the members then reach each other directly.
  const hello = async () => {
    for (const address of options.join) {
      try {
        const answer = (await transport.send({ id: 0, address }, "group.hello", { id: self.id, address: self.address }, timeout)) as { members?: Member[] };
        group.learn(answer.members ?? []);
      } catch {
        // That seed is not there now; the next round asks again.
      }
    }
  };
  const helloTimer = options.join.length === 0 ? undefined : setInterval(() => void hello(), Math.max(1000, timeout * 2));
  if (options.join.length === 0) group.start();
  else void hello().then(() => group.start());
  return {
    async handle(body) {
      const { client, seq, session } = (body ?? {}) as { client?: unknown; seq?: unknown; session?: unknown };
      if (typeof client !== "number" || !Number.isSafeInteger(client) || client < 1) throw new RequestError("bad_request", "client must be a positive integer");
      if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 0) throw new RequestError("bad_request", "seq (the request number) must be a non-negative integer");
      const command = validateCommand(body);
      if (typeof command === "string") throw new RequestError("bad_request", command);
      if (session !== undefined && (typeof session !== "string" || !/^[\w-]{1,64}$/.test(session))) throw new RequestError("bad_request", "session must be 1-64 letters, digits, _ or -");
      // The idempotency key: a retried request (same client, session and number) never books twice.
      return group.execute(command, client, `${client}:${session ?? ""}:${seq}`);
    },
    async onGroupMessage(op, body) {
      const to = (body as { to?: unknown } | null)?.to;
      if (to !== undefined && to !== self.id) throw new RequestError("unavailable", `server ${self.id} is not member ${String(to)} (it left)`);
      return group.onMessage(op, body);
    },
    close() {
      clearInterval(helloTimer);
      group.stop();
      registry.leave();
      for (const peer of peers.values()) peer.close();
      store.close();
    },
  };
}
