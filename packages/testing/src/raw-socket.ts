import type { Socket } from "bun";

/**
 * A plain socket for sending arbitrary bytes to a member of the fleet (garbage, half frames, frames
 * out of order) and seeing what comes back, without any of our own protocol code in the way.
 */
export class RawSocket {
  private chunks: Uint8Array[] = [];
  private socket: Socket<undefined> | null = null;
  private listeners: Array<() => void> = [];
  /** Bytes the kernel did not take yet; written on `drain` (Bun's socket.write may take only part). */
  private pending: Uint8Array[] = [];
  /** True once the other side closed the connection (or it failed). */
  peerClosed = false;

  /** Connects to `unix:/path.sock`, a bare path, or `tcp://host:port`. */
  static async connect(address: string, timeoutMs = 5000): Promise<RawSocket> {
    const raw = new RawSocket();
    const handlers = {
      data(_socket: Socket<undefined>, chunk: Uint8Array) {
        raw.chunks.push(new Uint8Array(chunk));
        raw.notify();
      },
      drain: () => raw.flushPending(),
      close: () => raw.markPeerClosed(),
      error: () => raw.markPeerClosed(),
      end: () => raw.markPeerClosed(),
    };
    const tcp = /^tcp:\/\/([^:]+):(\d+)$/.exec(address);
    const connecting = tcp
      ? Bun.connect({ hostname: tcp[1]!, port: Number(tcp[2]), socket: handlers })
      : Bun.connect({ unix: address.replace(/^unix:/, ""), socket: handlers });
    let timer: Timer | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`could not connect to ${address} within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      raw.socket = await Promise.race([connecting, timeout]);
    } finally {
      clearTimeout(timer);
    }
    return raw;
  }

  /** Everything received so far, concatenated. */
  get received(): Uint8Array {
    return Buffer.concat(this.chunks);
  }

  /** Bodies of the complete length-prefixed frames received so far (4-byte big-endian length, then the body). */
  get frames(): Uint8Array[] {
    const bytes = this.received;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const bodies: Uint8Array[] = [];
    let at = 0;
    while (at + 4 <= bytes.length) {
      const length = view.getUint32(at);
      if (at + 4 + length > bytes.length) break;
      bodies.push(bytes.subarray(at + 4, at + 4 + length));
      at += 4 + length;
    }
    return bodies;
  }

  /** Queues bytes in order; whatever the socket does not take at once is written when it drains. */
  write(bytes: Uint8Array): void {
    if (this.peerClosed || this.socket === null) return;
    this.pending.push(bytes);
    this.flushPending();
  }

  /** True once everything written has been handed to the kernel. */
  get flushed(): boolean {
    return this.pending.length === 0;
  }

  private flushPending(): void {
    if (this.socket === null) return;
    while (this.pending.length > 0 && !this.peerClosed) {
      const next = this.pending[0]!;
      const written = this.socket.write(next);
      if (written < 0) return;
      if (written < next.length) {
        this.pending[0] = next.subarray(written);
        return;
      }
      this.pending.shift();
    }
    this.socket.flush();
  }

  /** Resolves true once the other side closed the connection, false if `timeoutMs` passed first. */
  closedWithin(timeoutMs: number): Promise<boolean> {
    return this.until(() => this.peerClosed, timeoutMs);
  }

  /** Resolves true once `count` complete frames arrived, false if the connection closed or `timeoutMs` passed first. */
  async framesWithin(count: number, timeoutMs: number): Promise<boolean> {
    await this.until(() => this.frames.length >= count || this.peerClosed, timeoutMs);
    return this.frames.length >= count;
  }

  /** Closes our side. */
  close(): void {
    this.socket?.end();
  }

  /** Resolves true once `condition` holds (re-checked whenever bytes arrive or the connection closes), false after `timeoutMs`. */
  until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== check);
        resolve(false);
      }, timeoutMs);
      this.listeners.push(check);
    });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private markPeerClosed(): void {
    if (this.peerClosed) return;
    this.peerClosed = true;
    this.notify();
  }
}
