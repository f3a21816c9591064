import { writeSync } from "node:fs";

/** Bytes held for a blocked stdout/stderr before further output is dropped (and counted). */
const MAX_QUEUED_BYTES = 8 * 1024 * 1024;

interface Channel {
  fd: 1 | 2;
  stream: NodeJS.WriteStream;
  /** Output is going through the stream's queue until it drains. */
  queued: boolean;
  dropped: number;
  guarded: boolean;
}

const channels: Record<1 | 2, Channel | undefined> = { 1: undefined, 2: undefined };

function channel(fd: 1 | 2): Channel {
  channels[fd] ??= { fd, stream: fd === 1 ? process.stdout : process.stderr, queued: false, dropped: 0, guarded: false };
  return channels[fd];
}

/**
 * Writes whole lines to stdout (1) or stderr (2) synchronously, so a process's last words are out
 * before it exits. When the descriptor is a full non-blocking pipe, the rest and everything after
 * it go through the stream's own queue, in order, until it drains: nothing is reordered and the
 * process never blocks on a stalled reader. Past 8 MiB queued, output is dropped and the count
 * reported once the reader is back. A closed stdout is ignored.
 */
export function writeOut(fd: 1 | 2, data: string | Uint8Array): void {
  const ch = channel(fd);
  const bytes = typeof data === "string" ? Buffer.from(data) : data;
  if (ch.queued) {
    if (ch.stream.writableLength > MAX_QUEUED_BYTES) ch.dropped += countLines(bytes);
    else ch.stream.write(bytes);
    return;
  }
  let written = 0;
  try {
    written = writeSync(fd, bytes);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return;
  }
  if (written < bytes.length) queue(ch, bytes.subarray(written));
}

function queue(ch: Channel, rest: Uint8Array): void {
  if (!ch.guarded) {
    ch.guarded = true;
    ch.stream.on("error", () => {}); // A reader that went away must not crash us later.
  }
  ch.queued = true;
  if (ch.stream.write(rest)) return drained(ch);
  ch.stream.once("drain", () => drained(ch));
}

function drained(ch: Channel): void {
  ch.queued = false;
  if (ch.dropped > 0) {
    const note = `[output]: ${ch.dropped} lines were dropped while the reader of this output was not reading\n`;
    ch.dropped = 0;
    writeOut(ch.fd, note);
  }
}

function countLines(bytes: Uint8Array): number {
  let n = 0;
  for (const b of bytes) if (b === 10) n++;
  return Math.max(1, n);
}
