import type { RouterId } from "./fleet.ts";

export interface Upstream {
  n: number;
  address: string;
}

/** The data of a ctl `upstreams` frame: servers a router adds to its pool, and numbers it drains and drops. */
export interface UpstreamNews {
  add?: Upstream[];
  remove?: number[];
}

export interface RouterSync {
  /** The router is being spawned with these upstreams on its command line. */
  started(router: RouterId, upstreams: readonly Upstream[]): void;
  /** Sends the change now if the router is connected; otherwise it is caught up when it connects. */
  tell(router: RouterId, news: UpstreamNews): void;
  /** The router connected: send whatever changed since it was spawned or last told. */
  connected(router: RouterId, current: readonly Upstream[]): void;
}

/**
 * What each router knows about its pool. A router restarted during a change is spawned with the
 * membership of that moment but connects a little later; news sent in between would be lost, so
 * on connect it gets the difference between what it knows and what is true now.
 */
export function createRouterSync(send: (router: RouterId, news: UpstreamNews) => boolean): RouterSync {
  const known = new Map<string, Map<number, string>>();
  const key = (router: RouterId) => `${router.role}:${router.id}`;
  const poolOf = (router: RouterId) => {
    let pool = known.get(key(router));
    if (!pool) {
      pool = new Map();
      known.set(key(router), pool);
    }
    return pool;
  };
  const apply = (pool: Map<number, string>, news: UpstreamNews) => {
    for (const n of news.remove ?? []) pool.delete(n);
    for (const upstream of news.add ?? []) pool.set(upstream.n, upstream.address);
  };

  return {
    started(router, upstreams) {
      known.set(key(router), new Map(upstreams.map((u) => [u.n, u.address])));
    },
    tell(router, news) {
      if (send(router, news)) apply(poolOf(router), news);
    },
    connected(router, current) {
      const pool = poolOf(router);
      const now = new Map(current.map((u) => [u.n, u.address]));
      const news: UpstreamNews = {};
      // A number always has the same address (its socket), so membership is all that can differ.
      const remove = [...pool.keys()].filter((n) => !now.has(n));
      const add = current.filter((u) => !pool.has(u.n));
      if (remove.length > 0) news.remove = remove;
      if (add.length > 0) news.add = add;
      if (remove.length + add.length > 0 && send(router, news)) apply(pool, news);
    },
  };
}
