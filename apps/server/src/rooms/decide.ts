import { DAYS, ROOMS, TIMESLOTS } from "@switchyard/rooms";
import type { RoomsCommand } from "@switchyard/rooms";
import type { Effect, RoomStore } from "./store.ts";

export interface Decision {
  /** The answer's lines, as the seed's client prints them. */
  lines: string[];
  /** The change to make, when the command changes anything (replicated before it is confirmed). */
  effect?: Effect;
}

/**
 * What the leader answers a command, given its replica (reads) — and for reserve and cancel, the
 * effect that makes it so, which also keeps the answer under the request's idempotency key: a
 * repeat of a request (a retry, or a copy that was stuck in a paused server and arrives late) gets
 * the first answer and changes nothing, so it never books twice nor re-books a slot cancelled since.
 * A slot is reserved at most once; only the client that reserved a slot may cancel it. A refusal
 * changes no reservation, but is kept like any answer.
 */
export function decide(store: RoomStore, command: RoomsCommand, client: number, key: string): Decision {
  switch (command.cmd) {
    case "rooms":
      return { lines: [...ROOMS] };
    case "timeslots":
      return { lines: [...TIMESLOTS] };
    case "days":
      return { lines: [...DAYS] };
    case "quit":
      return { lines: ["bye"] };
    case "check": {
      const found = store.check(command.room);
      return { lines: found.length === 0 ? ["No room reservation found"] : found.map((r) => `${r.room} ${r.slot} ${r.day}`) };
    }
    case "reserve":
    case "cancel": {
      const earlier = store.answered(key);
      if (earlier !== undefined) return { lines: earlier };
      const [lines, change] = command.cmd === "reserve" ? reserve(store, command, client, key) : cancel(store, command, client);
      return { lines, effect: { ...change, answered: { key, lines } } };
    }
  }
}

type Write = Extract<RoomsCommand, { cmd: "reserve" | "cancel" }>;

function reserve(store: RoomStore, { room, slot, day }: Write, client: number, key: string): [string[], Effect] {
  const existing = store.find(room, slot, day);
  // Booked by this very request (before its answer was kept): the same booking.
  if (existing !== undefined && existing.key === key) return [["Reservation confirmed"], { kind: "none" }];
  if (existing !== undefined) return [[`${room} is already reserved at ${slot} on ${day}`], { kind: "none" }];
  return [["Reservation confirmed"], { kind: "put", reservation: { room, slot, day, client, key } }];
}

function cancel(store: RoomStore, { room, slot, day }: Write, client: number): [string[], Effect] {
  const existing = store.find(room, slot, day);
  if (existing === undefined) return [[`No reservation of ${room} at ${slot} on ${day} to cancel`], { kind: "none" }];
  if (existing.client !== client) return [[`Only the client that reserved ${room} at ${slot} on ${day} can cancel it`], { kind: "none" }];
  return [["Reservation cancelled"], { kind: "delete", room, slot, day }];
}
