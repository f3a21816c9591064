import { RequestError } from "@switchyard/net";

/**
 * The bounded queue in front of upstreams that are all at their in-flight limit (HAProxy's
 * backend queue): a request waits here for a free slot, first come first served, until its
 * deadline; when the queue is full it is refused at once with `overloaded`, so a burst costs
 * memory that is bounded and callers learn to back off.
 */
export class Admission {
  private readonly waiting: Array<{ resolve(): void; timer: Timer }> = [];

  constructor(
    /** Requests each upstream may have in flight from this hop. */
    readonly maxInflight: number,
    /** Requests that may wait for a slot. */
    readonly maxQueue: number,
  ) {}

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves when a slot may be free; rejects with `overloaded` (queue full) or `timeout` (deadline passed first). */
  wait(deadline: number, what: string): Promise<void> {
    if (this.waiting.length >= this.maxQueue) {
      return Promise.reject(
        new RequestError("overloaded", `every ${what} has ${this.maxInflight} requests in flight and ${this.waiting.length} more are queued; try again later`),
      );
    }
    return new Promise((resolve, reject) => {
      const entry = {
        resolve,
        timer: setTimeout(() => {
          const at = this.waiting.indexOf(entry);
          if (at >= 0) this.waiting.splice(at, 1);
          reject(new RequestError("timeout", `no ${what} had a free slot before the deadline`));
        }, Math.max(0, deadline - performance.now())),
      };
      this.waiting.push(entry);
    });
  }

  /** A request finished: the longest waiting request may try again. */
  release(): void {
    const next = this.waiting.shift();
    if (next === undefined) return;
    clearTimeout(next.timer);
    next.resolve();
  }
}
