/**
 * Calls `onIdle` once nothing called `touch` for `ms`. One timer per idle period, not one per touch:
 * a stream touches it for every chunk.
 */
export class IdleTimer {
  private last = performance.now();
  private timer: Timer | null;

  constructor(
    private readonly ms: number,
    private readonly onIdle: () => void,
  ) {
    this.timer = this.arm(ms);
  }

  touch(): void {
    this.last = performance.now();
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(ms: number): Timer {
    return setTimeout(() => {
      const idle = performance.now() - this.last;
      if (idle >= this.ms) {
        this.timer = null;
        this.onIdle();
      } else {
        this.timer = this.arm(this.ms - idle);
      }
    }, ms);
  }
}
