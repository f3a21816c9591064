/** What an LRU cache may hold: a count of entries and an estimate of their bytes; reaching either evicts the least recently used. */
export interface LruBounds {
  maxEntries: number;
  maxBytes: number;
}

/**
 * A least-recently-used cache on a Map (its insertion order is the recency order: a hit moves the
 * entry to the end). Each entry's size is given by the caller, so the byte bound means what the
 * caller counts.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, { value: V; bytes: number }>();
  private total = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly bounds: LruBounds) {}

  get size(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.total;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  /** The value without counting a hit or making it recent. */
  peek(key: K): V | undefined {
    return this.entries.get(key)?.value;
  }

  /** Oldest first. */
  keys(): IterableIterator<K> {
    return this.entries.keys();
  }

  /** Stores `value` (an entry larger than maxBytes is not stored at all). */
  set(key: K, value: V, bytes: number): void {
    const old = this.entries.get(key);
    if (old !== undefined) {
      this.total -= old.bytes;
      this.entries.delete(key);
    }
    if (bytes > this.bounds.maxBytes || this.bounds.maxEntries <= 0) return;
    this.entries.set(key, { value, bytes });
    this.total += bytes;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.bounds.maxEntries && this.total <= this.bounds.maxBytes) break;
      this.entries.delete(oldest);
      this.total -= entry.bytes;
    }
  }

  delete(key: K): boolean {
    const entry = this.entries.get(key);
    if (entry === undefined) return false;
    this.entries.delete(key);
    this.total -= entry.bytes;
    return true;
  }

  clear(): void {
    this.entries.clear();
    this.total = 0;
  }
}
