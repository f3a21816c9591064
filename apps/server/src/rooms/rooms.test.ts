import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseCommand, validateCommand } from "@switchyard/rooms";
import { decide } from "./decide.ts";
import { ANSWERS_KEPT, RoomStore, VersionGap } from "./store.ts";

describe("commands", () => {
  test("the seed's commands parse; anything else says what is wrong", () => {
    expect(parseCommand("rooms")).toEqual({ cmd: "rooms" });
    expect(parseCommand("  check ME4326 ")).toEqual({ cmd: "check", room: "ME4326" });
    expect(parseCommand("reserve ME4326 8:30-9:30 Friday")).toEqual({ cmd: "reserve", room: "ME4326", slot: "8:30-9:30", day: "Friday" });
    expect(parseCommand("cancel ME4326 8:30-9:30 Friday")).toEqual({ cmd: "cancel", room: "ME4326", slot: "8:30-9:30", day: "Friday" });
    expect(parseCommand("check XX1")).toMatch(/unknown room "XX1"/);
    expect(parseCommand("reserve ME4326 8:00-9:00 Friday")).toMatch(/unknown timeslot/);
    expect(parseCommand("reserve ME4326 8:30-9:30 Sunday")).toMatch(/unknown day "Sunday"/);
    expect(parseCommand("reserve ME4326")).toMatch(/usage: reserve ROOM TIMESLOT DAY/);
    expect(parseCommand("book it")).toMatch(/unknown command "book"/);
    expect(validateCommand({ cmd: "check", room: "SA318" })).toEqual({ cmd: "check", room: "SA318" });
    expect(validateCommand({ cmd: 5 })).toMatch(/strings/);
    expect(validateCommand(null)).toMatch(/object/);
  });
});

describe("the store and the decisions", () => {
  const withStore = (run: (store: RoomStore, path: string) => void) => {
    const dir = mkdtempSync(join(tmpdir(), "rooms-"));
    const path = join(dir, "rooms.sqlite");
    const store = new RoomStore(path);
    try {
      run(store, path);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const reserve = { cmd: "reserve", room: "ME4326", slot: "8:30-9:30", day: "Friday" } as const;

  test("a slot is reserved once; a retried request with the same key is the same booking; check lists it", () => {
    withStore((store) => {
      const first = decide(store, reserve, 7, "7:1");
      expect(first.lines).toEqual(["Reservation confirmed"]);
      store.apply(first.effect!, 1);
      expect(decide(store, reserve, 7, "7:1")).toEqual({ lines: ["Reservation confirmed"] });
      expect(decide(store, reserve, 8, "8:1")).toEqual({ lines: ["ME4326 is already reserved at 8:30-9:30 on Friday"], effect: { kind: "none", answered: { key: "8:1", lines: ["ME4326 is already reserved at 8:30-9:30 on Friday"] } } });
      expect(decide(store, { cmd: "check", room: "ME4326" }, 9, "9:1").lines).toEqual(["ME4326 8:30-9:30 Friday"]);
      expect(decide(store, { cmd: "check", room: "SA318" }, 9, "9:2").lines).toEqual(["No room reservation found"]);
    });
  });

  test("only the client that reserved a slot may cancel it", () => {
    withStore((store) => {
      store.apply(decide(store, reserve, 7, "7:1").effect!, 1);
      const cancel = { ...reserve, cmd: "cancel" } as const;
      expect(decide(store, cancel, 8, "8:1").lines).toEqual(["Only the client that reserved ME4326 at 8:30-9:30 on Friday can cancel it"]);
      const mine = decide(store, cancel, 7, "7:2");
      expect(mine.lines).toEqual(["Reservation cancelled"]);
      store.apply(mine.effect!, 2);
      expect(decide(store, cancel, 7, "7:3").lines).toEqual(["No reservation of ME4326 at 8:30-9:30 on Friday to cancel"]);
    });
  });

  test("a request repeated late (stuck in a paused server) gets its first answer and changes nothing, even after the slot changed hands", () => {
    withStore((store) => {
      const cancel = { ...reserve, cmd: "cancel" } as const;
      let version = 0;
      const run = (command: typeof reserve | typeof cancel, client: number, key: string) => {
        const decision = decide(store, command, client, key);
        if (decision.effect !== undefined) store.apply(decision.effect, ++version);
        return decision.lines;
      };
      expect(run(reserve, 7, "7:1")).toEqual(["Reservation confirmed"]);
      expect(run(reserve, 8, "8:1")).toEqual(["ME4326 is already reserved at 8:30-9:30 on Friday"]);
      expect(run(cancel, 7, "7:2")).toEqual(["Reservation cancelled"]);
      // The late copies: 7's first reserve does not book again, 8's refusal stays a refusal.
      expect(run(reserve, 7, "7:1")).toEqual(["Reservation confirmed"]);
      expect(run(reserve, 8, "8:1")).toEqual(["ME4326 is already reserved at 8:30-9:30 on Friday"]);
      expect(store.check("ME4326")).toEqual([]);
      expect(run(reserve, 7, "7:3")).toEqual(["Reservation confirmed"]);
      // A late copy of the cancel does not cancel the new booking.
      expect(run(cancel, 7, "7:2")).toEqual(["Reservation cancelled"]);
      expect(store.check("ME4326").map((r) => r.key)).toEqual(["7:3"]);
      // The kept answers travel with a snapshot.
      const replica = new RoomStore(":memory:");
      replica.restore(store.snapshot());
      expect(replica.answered("8:1")).toEqual(["ME4326 is already reserved at 8:30-9:30 on Friday"]);
      replica.close();
    });
  });

  test("only the latest ANSWERS_KEPT answers are kept", () => {
    withStore((store) => {
      store.apply({ kind: "none", answered: { key: "old", lines: ["x"] } }, 1);
      store.restore({ ...store.snapshot(), version: ANSWERS_KEPT });
      store.apply({ kind: "none", answered: { key: "new", lines: ["y"] } }, ANSWERS_KEPT + 1);
      expect([store.answered("old"), store.answered("new")]).toEqual([undefined, ["y"]]);
    });
  });

  test("effects apply in version order only; the state, version and epoch survive a reopen; a snapshot restores a replica", () => {
    withStore((store, path) => {
      const effect = decide(store, reserve, 7, "7:1").effect!;
      expect(() => store.apply(effect, 2)).toThrow(VersionGap);
      store.apply(effect, 1);
      store.raiseEpoch(3);
      store.raiseEpoch(2);
      const reopened = new RoomStore(path);
      expect([reopened.version, reopened.epoch, reopened.check("ME4326").length]).toEqual([1, 3, 1]);
      const replica = new RoomStore(":memory:");
      replica.restore(reopened.snapshot());
      expect(replica.snapshot()).toEqual(reopened.snapshot());
      reopened.close();
      replica.close();
    });
  });
});
