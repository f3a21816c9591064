import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GroupRegistry } from "./registry.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), "registry-"));
  dirs.push(dir);
  return dir;
}

test("members are the others' entries; a dead member's Unix socket entry is removed, a TCP one is kept", () => {
  const root = scratch();
  const group = join(root, "group");
  const liveSocket = join(root, "live.sock");
  writeFileSync(liveSocket, "");
  new GroupRegistry(group, { id: 2, address: `unix:${liveSocket}` }).join();
  new GroupRegistry(group, { id: 3, address: `unix:${join(root, "gone.sock")}` }).join();
  new GroupRegistry(group, { id: 4, address: "tcp://10.0.0.9:7000" }).join();
  const self = new GroupRegistry(group, { id: 1, address: `unix:${join(root, "self.sock")}` });
  self.join();

  expect(self.members().sort((a, b) => a.id - b.id)).toEqual([
    { id: 2, address: `unix:${liveSocket}` },
    { id: 4, address: "tcp://10.0.0.9:7000" },
  ]);
  expect(readdirSync(group).sort()).toEqual(["1", "2", "4"]);
});

test("a server that registers at a dead predecessor's address replaces its entry; the last one out removes the directory", () => {
  const root = scratch();
  const group = join(root, "group");
  const address = "tcp://127.0.0.1:7001";
  new GroupRegistry(group, { id: 10, address }).join();
  const successor = new GroupRegistry(group, { id: 11, address });
  successor.join();
  expect(readdirSync(group)).toEqual(["11"]);
  successor.leave();
  expect(existsSync(group)).toBe(false);
});
