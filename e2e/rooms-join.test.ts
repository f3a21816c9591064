// Servers that share no registry directory (as on different hosts) form one rooms group through
// --join, over TCP: the highest election id leads them all, and a write through one is read through another.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { Peer, parseAddress } from "@switchyard/net";
import { Spawned, binary, freeTcpPort, makeTempDir } from "@switchyard/testing";
import { cleanUpAfterEach } from "./_support.ts";

cleanUpAfterEach();

test("--join: servers without a shared registry find each other through a seed and elect one leader", async () => {
  const ports = [freeTcpPort(), freeTcpPort(), freeTcpPort()];
  const seed = `tcp://127.0.0.1:${ports[0]}`;
  const servers = ports.map((port, i) => {
    const own = makeTempDir();
    const join_ = i === 0 ? [] : ["--join", seed];
    return new Spawned([binary("server"), "--id", String(i + 1), "--election-id", String(10 + i), "--listen", `tcp://127.0.0.1:${port}`, "--run-dir", own, "--data-dir", join(own, "data"), ...join_]);
  });
  for (const server of servers) await server.waitForLine(/Election completed\. Group Leader: 12$/, 20_000);

  const peer = (i: number) => new Peer({ address: parseAddress(`tcp://127.0.0.1:${ports[i]}`), role: "client", id: 5, timeoutMs: 5000 });
  const first = peer(0);
  const second = peer(1);
  expect(await first.request("rooms", { client: 5, seq: 1, cmd: "reserve", room: "SA412", slot: "8:30-9:30", day: "Monday" }, 5000, 5)).toMatchObject({ lines: ["Reservation confirmed"] });
  expect(await second.request("rooms", { client: 6, seq: 1, cmd: "check", room: "SA412" }, 5000, 6)).toMatchObject({ lines: ["SA412 8:30-9:30 Monday"] });
  first.close();
  second.close();
});
