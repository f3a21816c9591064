/** The data of seeds/004's sample: what may be reserved, and when. */
export const ROOMS: readonly string[] = ["SA318", "ME4494", "SA314", "MC5050", "ME4326", "SA412"];
export const TIMESLOTS: readonly string[] = [
  "8:30-9:30",
  "9:30-10:30",
  "10:30-11:30",
  "11:30-12:30",
  "12:30-13:30",
  "13:30-14:30",
  "14:30-15:30",
  "15:30-16:30",
  "16:30-17:30",
  "17:30-19:00",
  "19:30-21:00",
];
export const DAYS: readonly string[] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];
