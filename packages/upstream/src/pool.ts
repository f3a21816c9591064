import type { Logger } from "@switchyard/log";
import { type Address, Peer, type PeerState } from "@switchyard/net";

/** One upstream (a proxy for the load balancer, a server for a proxy) and its persistent connection. */
export interface Upstream {
  /** Global number as in the logs: Server #4 is n = 4. */
  readonly n: number;
  readonly label: string;
  readonly peer: Peer;
}

export interface PoolOptions {
  upstreams: ReadonlyArray<{ n: number; address: Address }>;
  /** "Server #4", "Proxy #1". */
  label(n: number): string;
  /** Our side of the hello exchange. */
  role: string;
  id: number;
  log: Logger;
}

export interface Pool {
  readonly members: readonly Upstream[];
  /** Resolves once every member's first connection attempt has ended (open or down), or after `timeoutMs`. */
  settled(timeoutMs: number): Promise<void>;
  close(): void;
}

const STATE_WORDS: Record<PeerState, string> = {
  open: "is back",
  down: "is down",
  draining: "is draining",
  connecting: "is connecting",
  closed: "is closed",
};

/** Opens one persistent connection per upstream and logs every change of its state once. */
export function createPool(options: PoolOptions): Pool {
  let unsettled = options.upstreams.length;
  const { promise: allSettled, resolve: settle } = Promise.withResolvers<void>();
  if (unsettled === 0) settle();
  const members = options.upstreams.map(({ n, address }): Upstream => {
    const label = options.label(n);
    let everOpen = false;
    let settledOnce = false;
    let previous: PeerState = "connecting";
    const peer = new Peer({
      address,
      role: options.role,
      id: options.id,
      rawResponses: true, // A hop passes answers back unread.
      onStateChange(state, reason) {
        if (!settledOnce) {
          settledOnce = true;
          if (--unsettled === 0) settle();
        }
        const was = previous;
        previous = state;
        if (state === "closed") return;
        if (state === "open" && !everOpen) {
          everOpen = true; // The first connection is start-up, not news.
          options.log.debug(`Connected to ${label}`);
          return;
        }
        const line = `${label} ${STATE_WORDS[state]}${state === "open" ? "" : ` (${reason})`}`;
        if (state === "open") options.log.info(line);
        else if (state === "draining") options.log.info(line);
        // After a goaway the close is the expected end of a planned departure, not a failure.
        else if (was === "draining") options.log.debug(line);
        else options.log.warn(line);
      },
    });
    return { n, label, peer };
  });
  return {
    members,
    settled(timeoutMs) {
      let timer: Timer | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      });
      return Promise.race([allSettled, timeout]).finally(() => clearTimeout(timer));
    },
    close() {
      for (const member of members) member.peer.close();
    },
  };
}
