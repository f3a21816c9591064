/** Anything that batches writes and sends them in one go. */
export interface Flushable {
  flush(): void;
}

// One flush pass per event-loop turn for every writer that has something queued.
let queue: Flushable[] = [];
let armed = false;

/**
 * Flushes `writer` at the end of this event-loop turn, together with every other writer queued in
 * it: the frames or requests of one turn leave in one write per socket (FrameWriter, and the HTTP
 * client's ByteWriter).
 */
export function flushAtEndOfTurn(writer: Flushable): void {
  queue.push(writer);
  if (!armed) {
    armed = true;
    setImmediate(flushAll);
  }
}

function flushAll(): void {
  armed = false;
  const writers = queue;
  queue = [];
  for (const writer of writers) writer.flush();
}
