import type { HeaderList, IncomingRequest } from "@switchyard/http";
import { type LruBounds, LruCache } from "@switchyard/upstream";

/** A stored answer: what the upstream sent, read whole, and when. */
interface Stored {
  status: number;
  headers: ReadonlyArray<readonly [string, string]>;
  body: Uint8Array | undefined;
  /** The request headers the answer varies on (Vary), as the request that fetched it had them. */
  vary: ReadonlyArray<readonly [string, string | undefined]>;
  /** performance.now() when it arrived, less the Age it already had. */
  bornAt: number;
  /** Seconds it is fresh for, from its birth. */
  freshFor: number;
}

export interface CacheHit {
  status: number;
  /** The stored headers plus Age and X-Cache: HIT. */
  headers: Array<[string, string]>;
  body: Uint8Array | undefined;
}

export interface CacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  /** hits / (hits + misses), 0 before any lookup. */
  hitRatio: number;
}

/** Statuses a shared cache may store with explicit freshness (RFC 9111 §3, RFC 9110 §15.1 "cacheable by default"). */
const CACHEABLE_STATUS = new Set([200, 203, 204, 300, 301, 308, 404, 405, 410, 414, 501]);

/**
 * A shared HTTP cache for GET and HEAD (RFC 9111), in memory and bounded (LRU by entries and bytes):
 * it stores answers with explicit freshness (s-maxage, max-age, Expires), never no-store or private
 * ones, nor answers to requests with Authorization unless they say public or s-maxage; serves them
 * while fresh with Age and X-Cache: HIT; keeps one variant per combination of Vary'd request
 * headers; passes no-cache answers through (they would need revalidation). Concurrent misses for
 * one key wait for the first (request coalescing), then look again.
 */
export class HttpCache {
  private readonly store: LruCache<string, Stored[]>;
  private readonly pending = new Map<string, Promise<void>>();
  private hits = 0;
  private misses = 0;

  constructor(bounds: LruBounds) {
    this.store = new LruCache(bounds);
  }

  get stats(): CacheStats {
    const { hits, misses } = this;
    return { entries: this.store.size, bytes: this.store.bytes, hits, misses, hitRatio: hits + misses === 0 ? 0 : hits / (hits + misses) };
  }

  /** Whether the request may be answered from (and its answer stored in) the cache at all. */
  applies(request: IncomingRequest): boolean {
    return request.method === "GET" || request.method === "HEAD";
  }

  /** A fresh stored answer for the request, unless it asks for a fresh one (no-cache, max-age=0); counts a hit or a miss. */
  lookup(request: IncomingRequest, count = true): CacheHit | undefined {
    const directives = cacheControl(headerOf(request.headers, "cache-control"));
    const bypass = directives.has("no-cache") || directives.get("max-age") === "0" || /\bno-cache\b/i.test(headerOf(request.headers, "pragma") ?? "");
    const key = keyOf(request);
    const variants = this.store.peek(key);
    const now = performance.now();
    const stored = bypass ? undefined : variants?.find((variant) => variant.vary.every(([name, value]) => headerOf(request.headers, name) === value));
    const age = stored === undefined ? 0 : Math.floor((now - stored.bornAt) / 1000);
    if (stored === undefined || age >= stored.freshFor) {
      if (count) this.misses++;
      return undefined;
    }
    if (count) this.hits++;
    else this.misses--, this.hits++; // a coalesced miss that the first fetch answered: a hit after all
    this.store.get(key); // most recently used now
    const headers = stored.headers.filter(([name]) => name.toLowerCase() !== "age").map(([name, value]) => [name, value] as [string, string]);
    headers.push(["Age", String(age)], ["X-Cache", "HIT"]);
    return { status: stored.status, headers, body: stored.body };
  }

  /**
   * Runs `fetch` for a miss, unless another miss for the same key is already fetching: then waits
   * for it and looks again (its answer may be the one), fetching only if it was not.
   */
  async coalesce<T>(request: IncomingRequest, fetch: () => Promise<T>, again: () => T | undefined): Promise<T> {
    const key = keyOf(request);
    const leader = this.pending.get(key);
    if (leader !== undefined) {
      await leader;
      const hit = again();
      if (hit !== undefined) return hit;
      return fetch();
    }
    const { promise, resolve } = Promise.withResolvers<void>();
    this.pending.set(key, promise);
    try {
      return await fetch();
    } finally {
      this.pending.delete(key);
      resolve();
    }
  }

  /** Stores an answer to a GET that the upstream sent whole, if it may be stored; returns whether it was. */
  offer(request: IncomingRequest, status: number, headers: HeaderList, body: Uint8Array | undefined): boolean {
    // A HEAD's answer has no body: stored, it would answer a GET wrongly (a GET's answers a HEAD fine).
    if (request.method !== "GET" || !CACHEABLE_STATUS.has(status)) return false;
    const directives = cacheControl(headerOf(headers, "cache-control"));
    if (directives.has("no-store") || directives.has("private") || directives.has("no-cache")) return false;
    if (cacheControl(headerOf(request.headers, "cache-control")).has("no-store")) return false;
    if (headerOf(request.headers, "authorization") !== undefined && !directives.has("public") && !directives.has("s-maxage")) return false;
    const vary = headerOf(headers, "vary");
    if (vary !== undefined && vary.split(",").some((name) => name.trim() === "*")) return false;
    const freshFor = freshness(directives, headers);
    if (freshFor === undefined || freshFor <= 0) return false;
    const age = Number(headerOf(headers, "age") ?? "0");
    const varyNames = vary === undefined ? [] : vary.split(",").map((name) => name.trim().toLowerCase()).filter((name) => name !== "");
    const stored: Stored = {
      status,
      headers: headers.filter(([name]) => !["x-cache", "set-cookie"].includes(name.toLowerCase())),
      body,
      vary: varyNames.map((name) => [name, headerOf(request.headers, name)] as const),
      bornAt: performance.now() - (Number.isFinite(age) && age > 0 ? age * 1000 : 0),
      freshFor,
    };
    const key = keyOf(request);
    // A new answer for the same variant replaces the old one.
    const variants = (this.store.peek(key) ?? []).filter((v) => !v.vary.every(([name, value]) => headerOf(request.headers, name) === value));
    variants.push(stored);
    this.store.set(key, variants, variants.reduce((sum, v) => sum + sizeOf(v), key.length));
    return true;
  }

  /** Drops one target (every host and variant of it) or, without one, everything; returns how many keys went. */
  purge(target?: string): number {
    if (target === undefined) {
      const count = this.store.size;
      this.store.clear();
      return count;
    }
    const matching = [...this.store.keys()].filter((key) => key.slice(key.indexOf(" ") + 1) === target);
    for (const key of matching) this.store.delete(key);
    return matching.length;
  }
}

/** GET and HEAD share an entry: host (lower-case) and target. */
function keyOf(request: IncomingRequest): string {
  return `${(request.host ?? "").toLowerCase()} ${request.target}`;
}

function headerOf(headers: HeaderList, name: string): string | undefined {
  for (const [key, value] of headers) if (key.toLowerCase() === name) return value;
  return undefined;
}

/** Cache-Control directives, names lower-cased, values unquoted (a directive without one maps to ""). */
export function cacheControl(value: string | undefined): Map<string, string> {
  const directives = new Map<string, string>();
  if (value === undefined) return directives;
  for (const part of value.split(",")) {
    const [name = "", raw] = part.split("=");
    const key = name.trim().toLowerCase();
    if (key !== "") directives.set(key, (raw ?? "").trim().replace(/^"(.*)"$/, "$1"));
  }
  return directives;
}

/** Seconds fresh from the answer's birth: s-maxage, else max-age, else Expires − Date (RFC 9111 §4.2.1); undefined without any. */
export function freshness(directives: Map<string, string>, headers: HeaderList): number | undefined {
  for (const name of ["s-maxage", "max-age"]) {
    const value = directives.get(name);
    if (value !== undefined) return /^\d+$/.test(value) ? Number(value) : 0;
  }
  const expires = headerOf(headers, "expires");
  if (expires === undefined) return undefined;
  const until = Date.parse(expires);
  const date = Date.parse(headerOf(headers, "date") ?? new Date().toUTCString());
  // An Expires that does not parse, or lies in the past (Expires: 0), means already stale.
  return Number.isFinite(until) && Number.isFinite(date) ? Math.max(0, Math.floor((until - date) / 1000)) : 0;
}

function sizeOf(stored: Stored): number {
  return (stored.body?.length ?? 0) + stored.headers.reduce((sum, [name, value]) => sum + name.length + value.length + 4, 64);
}
