import { describe, expect, test } from "bun:test";
import { createLogger } from "@switchyard/log";
import { RequestError } from "@switchyard/net";
import type { ChildState } from "./child.ts";
import { type FleetControl, type ServerChild, createFleetControl } from "./fleet-control.ts";
import { createFleet } from "./fleet.ts";
import type { ChildSpec } from "./plan.ts";

type Behaviour = "ready" | "hang" | "fatal";

/** A server process as fleet-control sees it: becomes ready at once, never, or exits with a configuration error. */
class FakeChild implements ServerChild {
  ready = false;
  state: ChildState = "starting";
  runningPid: number | null = null;
  restarts = 0;
  failure: string | null = null;
  private wake: (() => void) | undefined;
  private release: (() => void) | undefined;

  constructor(
    readonly spec: ChildSpec,
    private readonly behaviour: Behaviour,
    private readonly events: string[],
    /** A stop resolves only once `finishStop` is called, to observe the fleet while servers drain. */
    private readonly holdStop = false,
  ) {}

  start(): Promise<void> {
    this.events.push(`start ${this.spec.id}`);
    this.runningPid = 1000 + this.spec.id;
    if (this.behaviour === "ready") {
      this.ready = true;
      this.state = "up";
      return Promise.resolve();
    }
    if (this.behaviour === "fatal") {
      this.failure = "exit code 78 before it was ever ready";
      this.runningPid = null;
      this.state = "stopping";
      return Promise.resolve();
    }
    return new Promise((resolve) => (this.wake = resolve));
  }

  stop(): Promise<void> {
    this.events.push(`stop ${this.spec.id}`);
    this.state = "stopping";
    this.wake?.();
    const exited = () => {
      this.runningPid = null;
      this.events.push(`exited ${this.spec.id}`);
    };
    if (!this.holdStop) return Promise.resolve().then(exited);
    return new Promise((resolve) => (this.release = () => (exited(), resolve())));
  }

  finishStop(): void {
    this.release?.();
  }
}

interface Options {
  proxies?: number;
  servers?: number;
  /** How the server numbered n behaves when started (default: ready). */
  behaviour?: (n: number) => Behaviour;
  holdStop?: boolean;
  rand?: () => number;
}

function harness(options: Options = {}) {
  const events: string[] = [];
  const lines: string[] = [];
  const children = new Map<number, FakeChild>();
  const fleet = createFleet({ proxies: options.proxies ?? 2, servers: options.servers ?? 3 });
  const control: FleetControl<FakeChild> = createFleetControl({
    fleet,
    log: createLogger({ role: "Watchdog", sink: (_fd, line) => lines.push(line.trimEnd()) }),
    readyTimeoutMs: 30,
    stopTimeoutMs: 1000,
    rand: options.rand ?? (() => 0),
    address: (n) => `unix:/run/sy/server-${n}.sock`,
    createChild(slot) {
      const spec: ChildSpec = { tier: "server", label: `Server #${slot.n}`, role: "server", id: slot.n, binary: "/opt/sy/server", args: () => [] };
      const child = new FakeChild(spec, options.behaviour?.(slot.n) ?? "ready", events, options.holdStop);
      children.set(slot.n, child);
      return child;
    },
    tell: (router, news) => events.push(`tell ${router.role}:${router.id} ${JSON.stringify(news)}`),
  });
  return { control, fleet, events, lines, children };
}

/** Starts the initial servers and opens the fleet to changes, as the watchdog does once it is ready. */
async function ready(h: ReturnType<typeof harness>) {
  await Promise.all(h.control.children().map((child) => child.start()));
  h.events.length = 0;
  h.control.open();
  return h;
}

async function refusal(answer: unknown): Promise<RequestError> {
  try {
    await answer;
  } catch (error) {
    expect(error).toBeInstanceOf(RequestError);
    return error as RequestError;
  }
  throw new Error("expected a refusal");
}

const names = (answer: unknown) => (answer as { replicas: Array<{ name: string }> }).replicas.map((r) => r.name);

describe("fleet.rep", () => {
  test("every server in fleet order with its number, proxy, pid, state, address and restarts", async () => {
    const h = harness({ servers: 2 });
    expect(h.control.handle("fleet.rep", {})).toEqual({
      replicas: [1, 2, 3, 4].map((n) => ({
        name: `Server ${n}`, n, proxy: n <= 2 ? 1 : 2, pid: null, state: "starting", address: `unix:/run/sy/server-${n}.sock`, restarts: 0,
      })),
    });
    await ready(h);
    h.children.get(3)!.restarts = 2;
    const replicas = (h.control.handle("fleet.rep", {}) as { replicas: Array<Record<string, unknown>> }).replicas;
    expect(replicas[2]).toMatchObject({ n: 3, pid: 1003, state: "up", restarts: 2 });
  });
});

describe("fleet.add", () => {
  test("starts the servers, tells each one's router once it is ready, and answers with the whole fleet", async () => {
    const h = await ready(harness());
    h.fleet.delete(2); // Reverse Proxy #1 owns the fewest now (2 against 3).
    const answer = await h.control.handle("fleet.add", { n: 3, hostnames: ["S5"] });
    expect(names(answer)).toEqual(["Server 1", "Server 3", "Server 4", "Server 5", "Server 6", "S5", "S-aaaaaa", "S-9"]);
    expect(h.events).toEqual([
      "start 7",
      "start 8",
      "start 9",
      'tell reverse_proxy:1 {"add":[{"n":7,"address":"unix:/run/sy/server-7.sock"}]}',
      'tell reverse_proxy:1 {"add":[{"n":8,"address":"unix:/run/sy/server-8.sock"}]}',
      'tell reverse_proxy:2 {"add":[{"n":9,"address":"unix:/run/sy/server-9.sock"}]}',
    ]);
    expect(h.lines).toEqual([
      "[Watchdog]: Adding Server #7 (S5) under Reverse Proxy #1",
      "[Watchdog]: Adding Server #8 (S-aaaaaa) under Reverse Proxy #1", // a tie (3 and 3) goes to the lowest k
      "[Watchdog]: Adding Server #9 (S-9) under Reverse Proxy #2",
    ]);
    expect(h.fleet.membersOf({ role: "reverse_proxy", id: 1 }).map((s) => s.n)).toEqual([1, 3, 7, 8]);
  });

  test("flat: the load balancer is the router told", async () => {
    const h = await ready(harness({ proxies: 0, servers: 1 }));
    await h.control.handle("fleet.add", { n: 1, hostnames: ["S5"] });
    expect(h.events.at(-1)).toBe('tell load_balancer:0 {"add":[{"n":2,"address":"unix:/run/sy/server-2.sock"}]}');
    expect(h.lines).toContain("[Watchdog]: Adding Server #2 (S5)");
  });

  test("a bad payload is refused with bad_request and changes nothing", async () => {
    const h = await ready(harness());
    const error = await refusal(h.control.handle("fleet.add", { n: 2, hostnames: ["S5", "S4", "S10", "S11"] }));
    expect([error.code, error.message]).toEqual(["bad_request", "<Error> Length of hostname list is more than newly added instances"]);
    expect(h.fleet.list()).toHaveLength(6);
    expect(h.events).toEqual([]);
  });

  test("a server that fails to start is named in the error, stopped and forgotten; the others stay", async () => {
    const h = await ready(harness({ behaviour: (n) => (n === 8 ? "fatal" : n === 9 ? "hang" : "ready") }));
    const error = await refusal(h.control.handle("fleet.add", { n: 3, hostnames: ["S5", "S4", "S10"] }));
    expect(error.code).toBe("start_failed");
    expect(error.message).toBe(
      "<Error> Server #8 (S4) did not start (exit code 78 before it was ever ready); Server #9 (S10) did not start (not ready within 30 ms). " +
        "1 of 3 new servers were added; the fleet has 7 servers",
    );
    expect(h.fleet.list().map((s) => s.name).slice(6)).toEqual(["S5"]);
    expect(h.events).toContain("stop 9");
    expect(h.events.filter((e) => e.startsWith("tell"))).toEqual(['tell reverse_proxy:1 {"add":[{"n":7,"address":"unix:/run/sy/server-7.sock"}]}']);
    // The numbers of the failed servers are not given out again.
    expect(names(await h.control.handle("fleet.add", { n: 1, hostnames: ["S4"] })).at(-1)).toBe("S4");
    expect(h.fleet.list().at(-1)!.n).toBe(10);
  });

  test("changes are refused while the fleet starts and once it shuts down", async () => {
    const h = harness();
    expect((await refusal(h.control.handle("fleet.add", { n: 1 }))).code).toBe("unavailable");
    h.control.open();
    h.control.close();
    const error = await refusal(h.control.handle("fleet.rm", { n: 1 }));
    expect([error.code, error.message]).toEqual(["shutting_down", "<Error> the fleet is shutting down"]);
  });
});

describe("fleet.rm", () => {
  test("tells the router to drop each server before stopping it, answers after they exited, and forgets them", async () => {
    const h = await ready(harness({ rand: () => 0.99 }));
    const answer = await h.control.handle("fleet.rm", { n: 2, hostnames: ["Server 2"] });
    // The random pick: a draw of 0.99 takes the last of the others, Server 6.
    expect(names(answer)).toEqual(["Server 1", "Server 3", "Server 4", "Server 5"]);
    expect(h.events).toEqual([
      'tell reverse_proxy:1 {"remove":[2]}',
      'tell reverse_proxy:2 {"remove":[6]}',
      "stop 2",
      "stop 6",
      "exited 2",
      "exited 6",
    ]);
    expect(h.lines).toContain("[Watchdog]: Removing Server #2 (Server 2)");
    expect(h.fleet.get(2)).toBeUndefined();
  });

  test("while removed servers drain, /rep shows them stopping; the answer waits for their exit", async () => {
    const h = await ready(harness({ holdStop: true }));
    let answered = false;
    const answer = Promise.resolve(h.control.handle("fleet.rm", { n: 1, hostnames: ["Server 4"] })).then((body) => ((answered = true), body));
    await Bun.sleep(0);
    const during = (h.control.handle("fleet.rep", {}) as { replicas: Array<{ n: number; state: string }> }).replicas;
    expect(during.find((r) => r.n === 4)!.state).toBe("stopping");
    expect(answered).toBe(false);
    h.children.get(4)!.finishStop();
    expect(names(await answer)).not.toContain("Server 4");
  });

  test("refusals change nothing", async () => {
    const h = await ready(harness());
    const error = await refusal(h.control.handle("fleet.rm", { n: 2, hostnames: ["S5", "S4", "S10", "S11"] }));
    expect([error.code, error.message]).toEqual(["bad_request", "<Error> Length of hostname list is more than removable instances"]);
    expect((await refusal(h.control.handle("fleet.rm", { n: 7 }))).message).toBe("<Error> cannot remove 7 servers: the fleet has 6");
    expect(h.fleet.list()).toHaveLength(6);
    expect(h.events).toEqual([]);
  });
});

test("changes run one at a time, each validated against the fleet the previous one left", async () => {
  const h = await ready(harness({ behaviour: (n) => (n === 7 ? "hang" : "ready") }));
  const first = h.control.handle("fleet.add", { n: 1, hostnames: ["S5"] });
  const second = h.control.handle("fleet.add", { n: 1, hostnames: ["S5"] });
  const third = h.control.handle("fleet.rm", { n: 1, hostnames: ["S5"] });
  // The first waits for its (hanging) server; the second has not started anything meanwhile.
  await Bun.sleep(5);
  expect(h.events).toEqual(["start 7"]);
  expect((await refusal(first)).code).toBe("start_failed");
  // With the first given up on, "S5" is free again: the second takes it, and the third removes it.
  expect(names(await second).at(-1)).toBe("S5");
  expect(names(await third)).not.toContain("S5");
  expect(h.events.slice(1)).toEqual([
    "stop 7", "exited 7",
    "start 8", 'tell reverse_proxy:1 {"add":[{"n":8,"address":"unix:/run/sy/server-8.sock"}]}',
    'tell reverse_proxy:1 {"remove":[8]}', "stop 8", "exited 8",
  ]);
});

test("other requests are refused with unknown_op", () => {
  const h = harness();
  expect(() => h.control.handle("sqrt", { value: 4 })).toThrow(RequestError);
});
