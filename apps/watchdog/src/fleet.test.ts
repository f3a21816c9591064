import { describe, expect, test } from "bun:test";
import { RequestError } from "@switchyard/net";
import { type Fleet, LOAD_BALANCER, MAX_SERVERS, createFleet, randomName } from "./fleet.ts";

/** A random source that returns these values in turn (then repeats the last). */
function sequence(...values: number[]): () => number {
  let i = 0;
  return () => values[Math.min(i++, values.length - 1)]!;
}
const anyRand = sequence(0.5);

/** The message a refused request answers with, checking it is a bad_request. */
function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(RequestError);
    expect((error as RequestError).code).toBe("bad_request");
    return (error as RequestError).message;
  }
  throw new Error("expected a refusal");
}

const names = (fleet: Fleet) => fleet.list().map((s) => s.name);

describe("the initial fleet", () => {
  test("two-tier: Server 1..6 numbered globally, Reverse Proxy #1 owns 1-3 and #2 owns 4-6, all in their routers' pools", () => {
    const fleet = createFleet({ proxies: 2, servers: 3 });
    expect(fleet.list().map((s) => [s.n, s.name, s.proxy])).toEqual([
      [1, "Server 1", 1], [2, "Server 2", 1], [3, "Server 3", 1],
      [4, "Server 4", 2], [5, "Server 5", 2], [6, "Server 6", 2],
    ]);
    expect(fleet.membersOf({ role: "reverse_proxy", id: 2 }).map((s) => s.n)).toEqual([4, 5, 6]);
    expect(fleet.membersOf(LOAD_BALANCER)).toEqual([]);
  });

  test("flat (--proxies 0): --servers is the whole fleet and the load balancer owns it", () => {
    const fleet = createFleet({ proxies: 0, servers: 3 });
    expect(names(fleet)).toEqual(["Server 1", "Server 2", "Server 3"]);
    expect(fleet.list().every((s) => s.proxy === 0)).toBe(true);
    expect(fleet.membersOf(LOAD_BALANCER).map((s) => s.n)).toEqual([1, 2, 3]);
  });

  test("--servers 0 is an empty fleet", () => {
    expect(createFleet({ proxies: 2, servers: 0 }).list()).toEqual([]);
    expect(createFleet({ proxies: 0, servers: 0 }).list()).toEqual([]);
  });
});

describe("planAdd", () => {
  test("the seed's /add: given names in order, numbers after the highest, each under the proxy with the fewest servers", () => {
    const fleet = createFleet({ proxies: 2, servers: 3 });
    fleet.delete(2); // Reverse Proxy #1 now owns 2, #2 owns 3.
    const planned = fleet.planAdd({ n: 4, hostnames: ["S5", "S4", "S10", "S11"] }, anyRand);
    expect(planned.map((s) => [s.n, s.name, s.proxy, s.membership])).toEqual([
      [7, "S5", 1, "joining"],
      [8, "S4", 1, "joining"], // a tie (3 and 3) goes to the lowest k
      [9, "S10", 2, "joining"],
      [10, "S11", 1, "joining"],
    ]);
    expect(fleet.list()).toHaveLength(5); // planning changes nothing
  });

  test("names not given are random, 'S-' and six lowercase letters or digits, and unique", () => {
    const fleet = createFleet({ proxies: 0, servers: 1 });
    // The first draw repeats a name already in the fleet: a new one is drawn.
    fleet.insert(fleet.planAdd({ n: 1, hostnames: ["S-aaaaaa"] }, anyRand));
    const planned = fleet.planAdd({ n: 2, hostnames: ["given"] }, sequence(0, 0, 0, 0, 0, 0, 0.99, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5));
    expect(planned.map((s) => s.name)).toEqual(["given", "S-9sssss"]);
    for (const name of createFleet({ proxies: 2, servers: 0 }).planAdd({ n: 20 }, Math.random).map((s) => s.name)) {
      expect(name).toMatch(/^S-[a-z0-9]{6}$/);
    }
  });

  test("a broken random source still yields unique names", () => {
    const fleet = createFleet({ proxies: 0, servers: 0 });
    const planned = fleet.planAdd({ n: 3 }, () => 0);
    expect(planned.map((s) => s.name)).toEqual(["S-aaaaaa", "S-2", "S-3"]);
  });

  test("numbers are never reused: after removing the highest, the next one is still higher", () => {
    const fleet = createFleet({ proxies: 2, servers: 3 });
    fleet.insert(fleet.planAdd({ n: 1 }, anyRand));
    expect(fleet.list().at(-1)!.n).toBe(7);
    fleet.delete(7);
    fleet.delete(6);
    expect(fleet.planAdd({ n: 1 }, anyRand)[0]!.n).toBe(8);
  });

  test("proxy: k puts every new server under Reverse Proxy #k", () => {
    const fleet = createFleet({ proxies: 3, servers: 1 });
    expect(fleet.planAdd({ n: 2, proxy: 3 }, anyRand).map((s) => s.proxy)).toEqual([3, 3]);
  });

  test("flat: new servers belong to the load balancer (proxy 0)", () => {
    const fleet = createFleet({ proxies: 0, servers: 3 });
    expect(fleet.planAdd({ n: 2 }, anyRand).map((s) => [s.n, s.proxy])).toEqual([[4, 0], [5, 0]]);
  });

  test("a server joins its router's pool only when it becomes a member", () => {
    const fleet = createFleet({ proxies: 1, servers: 1 });
    const [slot] = fleet.planAdd({ n: 1, hostnames: ["S5"] }, anyRand);
    fleet.insert([slot!]);
    expect(fleet.membersOf({ role: "reverse_proxy", id: 1 }).map((s) => s.n)).toEqual([1]);
    fleet.setMembership(2, "member");
    expect(fleet.membersOf({ role: "reverse_proxy", id: 1 }).map((s) => s.n)).toEqual([1, 2]);
    fleet.setMembership(1, "leaving");
    expect(fleet.membersOf({ role: "reverse_proxy", id: 1 }).map((s) => s.n)).toEqual([2]);
  });
});

describe("planAdd refuses, changing nothing", () => {
  const fleet = () => createFleet({ proxies: 2, servers: 3 });

  test("the seed's exact message for more hostnames than n", () => {
    expect(refusal(() => fleet().planAdd({ n: 2, hostnames: ["S5", "S4", "S10", "S11"] }, anyRand))).toBe(
      "<Error> Length of hostname list is more than newly added instances",
    );
  });

  test.each([[{}], [{ n: 0 }], [{ n: -1 }], [{ n: 1.5 }], [{ n: "2" }], [{ n: null }]])("n must be a positive integer: %j", (body) => {
    expect(refusal(() => fleet().planAdd(body, anyRand))).toBe("<Error> n must be a positive integer");
  });

  test("a payload that is not an object, or has a misspelt field", () => {
    expect(refusal(() => fleet().planAdd([1], anyRand))).toStartWith("<Error> the payload must be a JSON object");
    expect(refusal(() => fleet().planAdd(null, anyRand))).toStartWith("<Error> the payload must be a JSON object");
    expect(refusal(() => fleet().planAdd({ n: 1, hostname: ["S5"] }, anyRand))).toBe(
      '<Error> unknown field "hostname" (expected n, hostnames, proxy)',
    );
  });

  test("hostnames that are not a list of valid names", () => {
    expect(refusal(() => fleet().planAdd({ n: 1, hostnames: "S5" }, anyRand))).toBe(
      '<Error> hostnames must be a list of names such as ["S5", "S6"], got "S5"',
    );
    for (const bad of ["", " S5", "S5 ", "-rf", "a/b", "x".repeat(64), 5, null]) {
      expect(refusal(() => fleet().planAdd({ n: 1, hostnames: [bad] }, anyRand))).toStartWith("<Error> a hostname is 1 to 63 letters, digits");
    }
    expect(fleet().planAdd({ n: 3, hostnames: ["Web 1.a_b-c", "x".repeat(63), "7"] }, anyRand)).toHaveLength(3);
  });

  test("a name twice in the payload, or already in the fleet", () => {
    expect(refusal(() => fleet().planAdd({ n: 2, hostnames: ["S5", "S5"] }, anyRand))).toBe('<Error> hostname "S5" is listed twice');
    expect(refusal(() => fleet().planAdd({ n: 1, hostnames: ["Server 2"] }, anyRand))).toBe('<Error> hostname "Server 2" is already in use');
  });

  test("a proxy that does not exist, and any proxy in the flat topology", () => {
    expect(refusal(() => fleet().planAdd({ n: 1, proxy: 3 }, anyRand))).toBe("<Error> proxy must be the number of a reverse proxy (1 to 2), got 3");
    expect(refusal(() => fleet().planAdd({ n: 1, proxy: 0 }, anyRand))).toBe("<Error> proxy must be the number of a reverse proxy, got 0");
    expect(refusal(() => fleet().planAdd({ n: 1, proxy: "1" }, anyRand))).toBe('<Error> proxy must be the number of a reverse proxy, got "1"');
    expect(refusal(() => createFleet({ proxies: 0, servers: 3 }).planAdd({ n: 1, proxy: 1 }, anyRand))).toBe(
      "<Error> proxy cannot be chosen: this fleet has no reverse proxies (the load balancer routes to the servers)",
    );
  });

  test(`more than ${MAX_SERVERS} servers`, () => {
    expect(refusal(() => fleet().planAdd({ n: MAX_SERVERS - 5 }, anyRand))).toBe(
      `<Error> the fleet has 6 servers; adding ${MAX_SERVERS - 5} would exceed the limit of ${MAX_SERVERS}`,
    );
    expect(fleet().planAdd({ n: MAX_SERVERS - 6 }, anyRand)).toHaveLength(MAX_SERVERS - 6);
  });
});

describe("planRemove", () => {
  test("the seed's /rm: the named servers, plus others chosen at random up to n", () => {
    const fleet = createFleet({ proxies: 0, servers: 3 });
    fleet.insert(fleet.planAdd({ n: 4, hostnames: ["S5", "S4", "S10", "S11"] }, anyRand));
    // Others are Server 1, 2, 3, S10, S11: a draw of 0.3 picks index 1 of 5.
    const removed = fleet.planRemove({ n: 3, hostnames: ["S5", "S4"] }, sequence(0.3));
    expect(removed.map((s) => s.name)).toEqual(["S5", "S4", "Server 2"]);
    expect(fleet.list()).toHaveLength(7); // planning changes nothing
  });

  test("without names, n servers at random, each at most once", () => {
    const fleet = createFleet({ proxies: 2, servers: 3 });
    const removed = fleet.planRemove({ n: 6 }, sequence(0.99, 0.99, 0, 0.5));
    expect(removed.map((s) => s.n).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    expect(fleet.planRemove({ n: 1 }, sequence(0)).map((s) => s.name)).toEqual(["Server 1"]);
  });

  test("refusals, with the seed's exact message for more hostnames than n", () => {
    const fleet = createFleet({ proxies: 2, servers: 3 });
    expect(refusal(() => fleet.planRemove({ n: 2, hostnames: ["S5", "S4", "S10", "S11"] }, anyRand))).toBe(
      "<Error> Length of hostname list is more than removable instances",
    );
    expect(refusal(() => fleet.planRemove({ n: 0 }, anyRand))).toBe("<Error> n must be a positive integer");
    expect(refusal(() => fleet.planRemove({ n: 1, hostnames: ["S9"] }, anyRand))).toBe('<Error> no server is named "S9"');
    expect(refusal(() => fleet.planRemove({ n: 2, hostnames: ["Server 1", "Server 1"] }, anyRand))).toBe(
      '<Error> hostname "Server 1" is listed twice',
    );
    expect(refusal(() => fleet.planRemove({ n: 7 }, anyRand))).toBe("<Error> cannot remove 7 servers: the fleet has 6");
    expect(refusal(() => fleet.planRemove({ n: 1, proxy: 1 }, anyRand))).toBe('<Error> unknown field "proxy" (expected n, hostnames)');
  });
});

test("randomName draws from the 36 lowercase letters and digits", () => {
  expect(randomName(sequence(0, 0.5, 0.99, 0.7, 0.2, 0.05), new Set(), 1)).toBe("S-as9zhb");
});
