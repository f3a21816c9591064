import type { Message, StreamFrame } from "@switchyard/wire";
import { NetError } from "./errors.ts";
import { InStream } from "./stream-in.ts";
import type { OutStream } from "./stream-out.ts";

/** What a stream needs from the connection it travels on. */
export interface StreamLink {
  readonly idleMs: number;
  send(message: Message): void;
  forget(stream: InStream | OutStream): void;
}

/**
 * The streamed bodies of one connection, by request id: those we receive and those we send. The
 * same id may have one of each (a streamed request answered by a streamed response); which one a
 * frame is about follows from its kind (see StreamFrame). Created with a connection's first stream,
 * so connections that never stream pay nothing.
 */
export class StreamTable implements StreamLink {
  private readonly incoming = new Map<number, InStream>();
  private readonly outgoing = new Map<number, OutStream>();
  private closedWith: NetError | null = null;

  constructor(
    readonly send: (message: Message) => void,
    readonly idleMs: number,
  ) {}

  /** Starts receiving the body of `id`; its chunks are read from the returned stream's `readable`. */
  receive(id: number): InStream {
    const stream = new InStream(id, this);
    if (this.closedWith !== null) {
      stream.fail(this.closedWith, false);
      return stream;
    }
    // Only a broken peer reuses the id of a live stream: the old one cannot be told apart from the new.
    this.incoming.get(id)?.fail(new NetError("aborted", `stream ${id} was opened again`), false);
    this.incoming.set(id, stream);
    return stream;
  }

  /** Called by OutStream.start: from now on credit and cancel frames for `id` reach it. */
  register(stream: OutStream): boolean {
    if (this.closedWith !== null) return false;
    this.outgoing.get(stream.id)?.abort(new NetError("aborted", `stream ${stream.id} was opened again`));
    this.outgoing.set(stream.id, stream);
    return true;
  }

  /** Streams still running in either direction. */
  get active(): number {
    return this.incoming.size + this.outgoing.size;
  }

  get closeError(): NetError | null {
    return this.closedWith;
  }

  forget(stream: InStream | OutStream): void {
    if (stream instanceof InStream) {
      if (this.incoming.get(stream.id) === stream) this.incoming.delete(stream.id);
    } else if (this.outgoing.get(stream.id) === stream) {
      this.outgoing.delete(stream.id);
    }
  }

  /** A stream frame from the other side; one for an id we do not know (any more) is ignored. */
  onFrame(frame: StreamFrame): void {
    switch (frame.t) {
      case "data":
        return this.incoming.get(frame.id)?.onData(frame.chunk, frame.end === true);
      case "abort":
        return this.incoming.get(frame.id)?.fail(new NetError("remote", frame.message, frame.code), false);
      case "credit":
        return this.outgoing.get(frame.id)?.onCredit(frame.bytes);
      case "cancel":
        return this.outgoing.get(frame.id)?.onCancel(frame.code, frame.message);
    }
  }

  /** A bad frame carried this id: whatever streams it has are aborted, on both sides. */
  failId(id: number, error: NetError): void {
    this.incoming.get(id)?.fail(error, true);
    this.outgoing.get(id)?.abort(error);
  }

  /** The connection is closing: every stream on it fails, and later ones fail at once. */
  closeAll(error: NetError): void {
    if (this.closedWith !== null) return;
    this.closedWith = error;
    const streams = [...this.incoming.values(), ...this.outgoing.values()];
    this.incoming.clear();
    this.outgoing.clear();
    for (const stream of streams) {
      // Said to the other side too, while the connection can still carry it (end() flushes before closing).
      if (stream instanceof InStream) stream.fail(error, true);
      else stream.abort(error);
    }
  }
}

/** The code a stream's error travels under: a remote error keeps the code the other side gave it. */
export function codeOf(error: NetError): string {
  return error.remoteCode ?? error.code;
}

/** Any failure as a NetError ("aborted" unless it already is one), for the reader of a stream. */
export function asNetError(error: unknown, what: string): NetError {
  if (error instanceof NetError) return error;
  return new NetError("aborted", `${what}: ${error instanceof Error ? error.message : String(error)}`);
}
