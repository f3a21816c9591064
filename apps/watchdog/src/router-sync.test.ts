import { expect, test } from "bun:test";
import type { RouterId } from "./fleet.ts";
import { type UpstreamNews, createRouterSync } from "./router-sync.ts";

const proxy1: RouterId = { role: "reverse_proxy", id: 1 };
const up = (n: number) => ({ n, address: `unix:/run/sy/server-${n}.sock` });

function harness() {
  const sent: Array<[string, UpstreamNews]> = [];
  let connected = true;
  const sync = createRouterSync((router, news) => {
    if (!connected) return false;
    sent.push([`${router.role}:${router.id}`, news]);
    return true;
  });
  return { sync, sent, setConnected: (value: boolean) => (connected = value) };
}

test("news for a connected router is sent as is", () => {
  const { sync, sent } = harness();
  sync.started(proxy1, [up(1)]);
  sync.tell(proxy1, { add: [up(7)] });
  sync.tell(proxy1, { remove: [1] });
  expect(sent).toEqual([["reverse_proxy:1", { add: [up(7)] }], ["reverse_proxy:1", { remove: [1] }]]);
});

test("a router that was down while the fleet changed is caught up when it connects", () => {
  const { sync, sent, setConnected } = harness();
  sync.started(proxy1, [up(1), up(2)]);
  setConnected(false);
  sync.tell(proxy1, { add: [up(7)] });
  sync.tell(proxy1, { remove: [2] });
  setConnected(true);
  sync.connected(proxy1, [up(1), up(7)]);
  expect(sent).toEqual([["reverse_proxy:1", { remove: [2], add: [up(7)] }]]);
});

test("a router spawned with the current membership is told nothing on connect", () => {
  const { sync, sent } = harness();
  sync.started(proxy1, [up(1), up(7)]);
  sync.connected(proxy1, [up(1), up(7)]);
  expect(sent).toEqual([]);
});

test("a change between a router's spawn and its connect reaches it exactly once", () => {
  const { sync, sent, setConnected } = harness();
  sync.started(proxy1, [up(1)]); // restarted: spawned with Server #1 only
  setConnected(false); // …and not yet connected when Server #7 becomes ready
  sync.tell(proxy1, { add: [up(7)] });
  setConnected(true);
  sync.connected(proxy1, [up(1), up(7)]);
  sync.connected(proxy1, [up(1), up(7)]); // a second connect changes nothing
  expect(sent).toEqual([["reverse_proxy:1", { add: [up(7)] }]]);
});
