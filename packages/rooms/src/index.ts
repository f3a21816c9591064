export { DAYS, ROOMS, TIMESLOTS } from "./catalog.ts";
export { type RoomsCommand, parseCommand, validateCommand } from "./command.ts";
