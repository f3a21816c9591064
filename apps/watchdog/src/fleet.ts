import { badRequest, parseAddPayload, parseRemovePayload, show } from "./fleet-payload.ts";

/** More servers than this would make a fleet no single watchdog should supervise (and a typo like n: 100000 harmless). */
export const MAX_SERVERS = 1024;

/**
 * Where a server stands with its router: `joining` (started, not yet announced), `member` (in the
 * router's pool: on its command line or announced), `leaving` (dropped from the pool, being stopped).
 */
export type Membership = "joining" | "member" | "leaving";

export interface ServerSlot {
  /** Global number, never reused: "Server #7" in every log line. */
  readonly n: number;
  /** The seed's hostname: "Server 3", or the name given to /add. */
  readonly name: string;
  /** Owning reverse proxy k; 0 in the flat topology (the load balancer routes to the server itself). */
  readonly proxy: number;
  readonly membership: Membership;
}

/** A member of the fleet that routes to servers, as it says hello on the control socket. */
export interface RouterId {
  role: "reverse_proxy" | "load_balancer";
  id: number;
}

export const LOAD_BALANCER: RouterId = { role: "load_balancer", id: 0 };

/** The fleet's servers and who owns them, without any process: what /rep, /add and /rm decide on. */
export interface Fleet {
  /** Reverse proxies; 0 is the flat topology. */
  readonly proxies: number;
  /** Initial servers by number, then added ones in the order added. */
  list(): readonly ServerSlot[];
  get(n: number): ServerSlot | undefined;
  /** Validates an /add payload against the fleet and names, numbers and places the new servers; changes nothing. */
  planAdd(body: unknown, rand: () => number): ServerSlot[];
  /** Validates an /rm payload and picks the named servers plus random others up to n; changes nothing. */
  planRemove(body: unknown, rand: () => number): ServerSlot[];
  /** Adds planned servers as `joining`. */
  insert(slots: readonly ServerSlot[]): void;
  setMembership(n: number, membership: Membership): void;
  /** Forgets a server; its number is never given out again. */
  delete(n: number): void;
  /** The servers a router has in its pool, by number. */
  membersOf(router: RouterId): ServerSlot[];
}

export function routerOf(slot: Pick<ServerSlot, "proxy">): RouterId {
  return slot.proxy === 0 ? LOAD_BALANCER : { role: "reverse_proxy", id: slot.proxy };
}

export function routerLabel(router: RouterId): string {
  return router.role === "load_balancer" ? "Load Balancer" : `Reverse Proxy #${router.id}`;
}

/** "Server #7 (S5)": the number for the logs, the name the user chose. */
export function slotLabel(slot: Pick<ServerSlot, "n" | "name">): string {
  return `Server #${slot.n} (${slot.name})`;
}

/** The fleet of seeds/000 (Reverse Proxy #k owns Servers #(k-1)·S+1 … #k·S), or S servers under the load balancer when flat. */
export function createFleet(size: { proxies: number; servers: number }): Fleet {
  const slots = new Map<number, ServerSlot>();
  const owners = Math.max(1, size.proxies);
  for (let n = 1; n <= owners * size.servers; n++) {
    const proxy = size.proxies === 0 ? 0 : Math.ceil(n / size.servers);
    slots.set(n, { n, name: `Server ${n}`, proxy, membership: "member" });
  }
  let highest = slots.size;

  const byName = (name: string) => [...slots.values()].find((slot) => slot.name === name);

  /** Fewest servers first, ties to the lowest k (the seed numbers proxies from 1). */
  const leastLoaded = (owned: number[]) => {
    let best = 1;
    for (let k = 2; k <= size.proxies; k++) if (owned[k]! < owned[best]!) best = k;
    return best;
  };

  return {
    proxies: size.proxies,
    list: () => [...slots.values()],
    get: (n) => slots.get(n),
    planAdd(body, rand) {
      const { n, hostnames, proxy } = parseAddPayload(body);
      for (const name of hostnames) {
        if (byName(name)) throw badRequest(`hostname ${show(name)} is already in use`);
      }
      if (proxy !== undefined && size.proxies === 0) {
        throw badRequest("proxy cannot be chosen: this fleet has no reverse proxies (the load balancer routes to the servers)");
      }
      if (proxy !== undefined && proxy > size.proxies) {
        throw badRequest(`proxy must be the number of a reverse proxy (1 to ${size.proxies}), got ${proxy}`);
      }
      if (slots.size + n > MAX_SERVERS) {
        throw badRequest(`the fleet has ${slots.size} servers; adding ${n} would exceed the limit of ${MAX_SERVERS}`);
      }
      const taken = new Set([...slots.values()].map((slot) => slot.name).concat(hostnames));
      const owned = Array.from({ length: size.proxies + 1 }, () => 0);
      for (const slot of slots.values()) owned[slot.proxy]!++;
      const planned: ServerSlot[] = [];
      for (let i = 0; i < n; i++) {
        const number = highest + 1 + i;
        const name = hostnames[i] ?? randomName(rand, taken, number);
        taken.add(name);
        const owner = size.proxies === 0 ? 0 : (proxy ?? leastLoaded(owned));
        owned[owner]!++;
        planned.push({ n: number, name, proxy: owner, membership: "joining" });
      }
      return planned;
    },
    planRemove(body, rand) {
      const { n, hostnames } = parseRemovePayload(body);
      const named = hostnames.map((name) => {
        const slot = byName(name);
        if (!slot) throw badRequest(`no server is named ${show(name)}`);
        return slot;
      });
      if (n > slots.size) throw badRequest(`cannot remove ${n} servers: the fleet has ${slots.size}`);
      const others = [...slots.values()].filter((slot) => !named.includes(slot));
      // A partial Fisher-Yates shuffle: each of the others is equally likely to go.
      for (let i = 0; i < n - named.length; i++) {
        const j = i + Math.floor(rand() * (others.length - i));
        [others[i], others[j]] = [others[j]!, others[i]!];
      }
      return [...named, ...others.slice(0, n - named.length)];
    },
    insert(planned) {
      for (const slot of planned) {
        slots.set(slot.n, { ...slot, membership: "joining" });
        highest = Math.max(highest, slot.n);
      }
    },
    setMembership(n, membership) {
      const slot = slots.get(n);
      if (slot) slots.set(n, { ...slot, membership });
    },
    delete(n) {
      slots.delete(n);
    },
    membersOf(router) {
      return [...slots.values()]
        .filter((slot) => slot.membership === "member" && sameRouter(routerOf(slot), router))
        .sort((a, b) => a.n - b.n);
    },
  };
}

export function sameRouter(a: RouterId, b: RouterId): boolean {
  return a.role === b.role && a.id === b.id;
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

/** "S-" and six lowercase letters or digits, like a container's random name; unique in the fleet. */
export function randomName(rand: () => number, taken: ReadonlySet<string>, n: number): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    let name = "S-";
    for (let i = 0; i < 6; i++) name += ALPHABET[Math.floor(rand() * ALPHABET.length)];
    if (!taken.has(name)) return name;
  }
  // Only a broken random source gets here: fall back to the number, which is unique unless a user took it.
  for (let suffix = 1; ; suffix++) {
    const name = suffix === 1 ? `S-${n}` : `S-${n}-${suffix}`;
    if (!taken.has(name)) return name;
  }
}
