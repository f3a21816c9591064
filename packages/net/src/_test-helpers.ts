// Shared by the net package's tests only; never exported from index.ts.
import { afterEach, beforeEach } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Socket } from "bun";
import type { Address } from "./address.ts";
import { FrameReader, type Message, type WireError } from "@switchyard/wire";

/** A per-test directory under the OS temp dir; `remove` deletes it and everything in it. */
export function makeTempDir(): { dir: string; sock(name: string): string; remove(): void } {
  // Short prefix: unix socket paths must stay under 108 bytes.
  const dir = mkdtempSync(join(tmpdir(), "sy-net-"));
  return {
    dir,
    sock: (name) => join(dir, name),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/**
 * Polls `check` until it is true, for state changes that raise no event. Bounded by a generous
 * deadline (the machine may be loaded); fails with `what` when it passes.
 */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(5);
  }
}

/** Resolves with `promise`, or rejects naming `what` if it takes longer than `timeoutMs`. */
export async function within<T>(promise: Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  let timer: Timer | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Awaits a rejection and returns the error; fails if the promise resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected the promise to reject");
}

/**
 * A bare socket client that speaks the framing but none of the protocol, to send what a real peer
 * never would (garbage, no hello, another version) and to see every frame the listener answers.
 */
export interface RawClient {
  readonly messages: Message[];
  readonly wireErrors: WireError[];
  /** Resolves when the listener closed the connection. */
  readonly closed: Promise<void>;
  isClosed(): boolean;
  write(bytes: Uint8Array): void;
  /** The next message not yet returned by `next` (waits for it). */
  next(what?: string): Promise<Message>;
  close(): void;
}

export async function rawClient(path: string): Promise<RawClient> {
  const messages: Message[] = [];
  const wireErrors: WireError[] = [];
  const closed = deferred();
  let isClosed = false;
  let read = 0;
  let wake: (() => void) | null = null;
  // What the kernel did not take yet, written on `drain`: a big write (stream chunks) is taken in parts.
  const unsent: Uint8Array[] = [];
  const flush = (socket: Socket<undefined>) => {
    while (unsent.length > 0) {
      const bytes = unsent[0]!;
      const written = socket.write(bytes);
      if (written < bytes.length) {
        unsent[0] = bytes.subarray(Math.max(0, written));
        return;
      }
      unsent.shift();
    }
  };
  const reader = new FrameReader({
    onMessage: (message) => {
      messages.push(message);
      wake?.();
    },
    onError: (error) => wireErrors.push(error),
  });
  const handlers = {
    data(_socket: Socket<undefined>, chunk: Uint8Array) {
      reader.push(chunk);
    },
    drain(socket: Socket<undefined>) {
      flush(socket);
    },
    close() {
      isClosed = true;
      closed.resolve();
      wake?.();
    },
    error() {},
  };
  const socket = await Bun.connect({ unix: path, socket: handlers });
  return {
    messages,
    wireErrors,
    closed: closed.promise,
    isClosed: () => isClosed,
    write(bytes) {
      unsent.push(bytes);
      if (unsent.length === 1) flush(socket);
    },
    async next(what = "a frame from the listener") {
      const deadline = performance.now() + 10_000;
      while (read >= messages.length) {
        if (isClosed) throw new Error(`connection closed while waiting for ${what}`);
        if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        let timer: Timer | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, 200); // re-check the deadline now and then
        });
        clearTimeout(timer);
        wake = null;
      }
      return messages[read++]!;
    },
    close() {
      socket.terminate();
    },
  };
}

/**
 * Per-test temp directory and clean-up list for socket tests: registers beforeEach/afterEach,
 * which close what a test opened (last first, every step even if one throws) and remove the dir.
 */
export function useSocketSandbox(defaultSocket: string) {
  let tmp: ReturnType<typeof makeTempDir> | undefined;
  const cleanups: (() => void)[] = [];
  beforeEach(() => {
    tmp = makeTempDir();
  });
  afterEach(() => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      try {
        cleanup();
      } catch {
        // Keep cleaning.
      }
    }
    tmp?.remove();
  });
  return {
    cleanups,
    get tmp() {
      if (tmp === undefined) throw new Error("useSocketSandbox: used outside a test");
      return tmp;
    },
    unix: (name = defaultSocket): Address => ({ kind: "unix", path: (tmp as ReturnType<typeof makeTempDir>).sock(name) }),
  };
}

export { seededRandom } from "@switchyard/testing/random";
