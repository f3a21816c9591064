import { writeOut } from "@switchyard/log";

/** A child that writes this much without a newline has its output cut into a line anyway. */
const MAX_LINE_BYTES = 64 * 1024;
const NEWLINE = 10;

/**
 * Copies a child's output to ours in whole lines. Each child has its own pipe and only the
 * watchdog writes to the terminal, so lines of different processes can never be spliced together,
 * however slow the reader of the watchdog's output is. Resolves when the child's pipe closes.
 */
export async function relayLines(stream: ReadableStream<Uint8Array>, fd: 1 | 2): Promise<void> {
  let carry: Uint8Array | null = null;
  for await (const chunk of stream) {
    const data: Uint8Array = carry ? concat(carry, chunk) : chunk;
    const cut = data.lastIndexOf(NEWLINE);
    if (cut < 0) {
      carry = data.length >= MAX_LINE_BYTES ? (writeOut(fd, concat(data, Uint8Array.of(NEWLINE))), null) : data.slice();
      continue;
    }
    writeOut(fd, data.slice(0, cut + 1));
    carry = cut + 1 < data.length ? data.slice(cut + 1) : null;
  }
  if (carry) writeOut(fd, concat(carry, Uint8Array.of(NEWLINE)));
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
