import type { WatchdogLink } from "@switchyard/cli";
import { NetError, formatAddress } from "@switchyard/net";
import type { Pool } from "@switchyard/upstream";

/** One server replica as the watchdog reports it (`fleet.rep`). */
export interface Replica {
  name: string;
  n: number;
  /** The reverse proxy that routes to it; 0 in the flat topology. */
  proxy: number;
  pid: number | null;
  state: string;
  address: string;
  restarts: number;
}

/** The replicas behind the load balancer: read, added and removed (seeds/002 /rep, /add, /rm). */
export interface FleetApi {
  replicas(): Promise<Replica[]>;
  /** The user's /add payload, passed on unvalidated: the watchdog owns the fleet and checks it. */
  add(payload: unknown): Promise<Replica[]>;
  remove(payload: unknown): Promise<Replica[]>;
}

/** A refusal with the HTTP status it maps to and the seed's `<Error> …` message. */
export class FleetError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = "FleetError";
  }
}

/** The watchdog's refusal codes and the HTTP status each becomes. */
const REFUSALS: Record<string, number> = { bad_request: 400, start_failed: 500, unavailable: 503, shutting_down: 503 };

/** Starting servers waits for them to be ready (up to the watchdog's ready timeout, 10 s by default). */
const CHANGE_TIMEOUT_MS = 60_000;
const READ_TIMEOUT_MS = 5000;

/** The fleet as the watchdog runs it: every call is a request on its control socket. */
export function watchdogFleet(link: WatchdogLink): FleetApi {
  const ask = async (op: string, body: unknown, timeoutMs: number): Promise<Replica[]> => {
    try {
      const answer = (await link.request(op, body, timeoutMs)) as { replicas?: Replica[] } | null;
      return answer?.replicas ?? [];
    } catch (error) {
      if (error instanceof NetError && error.code === "remote") {
        // The watchdog's own refusals keep their words: a bad payload, servers that would not start, a fleet not ready.
        const status = REFUSALS[error.remoteCode ?? ""];
        if (status !== undefined) throw new FleetError(status, error.message.startsWith("<Error>") ? error.message : `<Error> ${error.message}`);
      }
      throw new FleetError(503, `<Error> the watchdog did not answer ${op}: ${(error as Error).message}`);
    }
  };
  return {
    replicas: () => ask("fleet.rep", {}, READ_TIMEOUT_MS),
    add: (payload) => ask("fleet.add", payload, CHANGE_TIMEOUT_MS),
    remove: (payload) => ask("fleet.rm", payload, CHANGE_TIMEOUT_MS),
  };
}

/**
 * A load balancer started by hand knows only its own upstreams: it lists them, and cannot start or
 * stop processes (only the watchdog spawns).
 */
export function unsupervisedFleet(pool: Pool, flat: boolean): FleetApi {
  const refuse = () => Promise.reject(new FleetError(503, "<Error> this load balancer runs without a watchdog, so it cannot add or remove replicas"));
  return {
    replicas: async () =>
      pool.members.map((m) => ({
        name: flat ? `Server ${m.n}` : `Proxy ${m.n}`,
        n: m.n,
        proxy: 0,
        pid: null,
        state: m.alive ? "up" : "down",
        address: formatAddress(m.peer.address),
        restarts: 0,
      })),
    add: refuse,
    remove: refuse,
  };
}
