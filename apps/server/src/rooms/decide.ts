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
 * effect that makes it so. A reserve whose idempotency key is already booked is the same booking
 * (a retried request never books twice); a slot is reserved at most once; only the client that
 * reserved a slot may cancel it. Nothing changes on a refusal.
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
    case "reserve": {
      const { room, slot, day } = command;
      const existing = store.find(room, slot, day);
      if (existing !== undefined) {
        if (existing.key === key) return { lines: ["Reservation confirmed"] };
        return { lines: [`${room} is already reserved at ${slot} on ${day}`] };
      }
      return { lines: ["Reservation confirmed"], effect: { kind: "put", reservation: { room, slot, day, client, key } } };
    }
    case "cancel": {
      const { room, slot, day } = command;
      const existing = store.find(room, slot, day);
      if (existing === undefined) return { lines: [`No reservation of ${room} at ${slot} on ${day} to cancel`] };
      if (existing.client !== client) return { lines: [`Only the client that reserved ${room} at ${slot} on ${day} can cancel it`] };
      return { lines: ["Reservation cancelled"], effect: { kind: "delete", room, slot, day } };
    }
  }
}
