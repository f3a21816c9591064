import { DAYS, ROOMS, TIMESLOTS } from "./catalog.ts";

/** One command of the seed's client, checked: what the rooms service is asked. */
export type RoomsCommand =
  | { cmd: "rooms" | "timeslots" | "days" | "quit" }
  | { cmd: "check"; room: string }
  | { cmd: "reserve" | "cancel"; room: string; slot: string; day: string };

/** A line the user typed, as a command; a string says what is wrong with it. */
export function parseCommand(line: string): RoomsCommand | string {
  const [word = "", ...args] = line.trim().split(/\s+/);
  const cmd = word.toLowerCase();
  switch (cmd) {
    case "rooms":
    case "timeslots":
    case "days":
    case "quit":
      return args.length === 0 ? { cmd } : `${cmd} takes no arguments`;
    case "check":
      return args.length === 1 ? checkRoom(args[0]!) ?? { cmd, room: args[0]! } : "usage: check ROOM";
    case "reserve":
    case "cancel": {
      if (args.length !== 3) return `usage: ${cmd} ROOM TIMESLOT DAY`;
      const [room, slot, day] = args as [string, string, string];
      return checkRoom(room) ?? checkSlot(slot) ?? checkDay(day) ?? { cmd, room, slot, day };
    }
    case "":
      return "type a command: rooms, timeslots, days, check ROOM, reserve ROOM TIMESLOT DAY, cancel ROOM TIMESLOT DAY, quit";
    default:
      return `unknown command "${word}" (rooms, timeslots, days, check, reserve, cancel, quit)`;
  }
}

/** The same checks for a command that arrived over the wire (any shape): the command, or what is wrong. */
export function validateCommand(value: unknown): RoomsCommand | string {
  if (typeof value !== "object" || value === null) return "a rooms request is an object with cmd";
  const { cmd, room, slot, day } = value as Record<string, unknown>;
  const text = [cmd, room, slot, day].filter((part) => part !== undefined);
  if (!text.every((part) => typeof part === "string")) return "cmd, room, slot and day are strings";
  return parseCommand(text.join(" "));
}

function checkRoom(room: string): string | undefined {
  return ROOMS.includes(room) ? undefined : `unknown room "${room}" (rooms: ${ROOMS.join(", ")})`;
}

function checkSlot(slot: string): string | undefined {
  return TIMESLOTS.includes(slot) ? undefined : `unknown timeslot "${slot}" (see: timeslots)`;
}

function checkDay(day: string): string | undefined {
  return DAYS.includes(day) ? undefined : `unknown day "${day}" (${DAYS.join(", ")})`;
}
