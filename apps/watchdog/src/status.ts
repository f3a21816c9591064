import { readFileSync } from "node:fs";
import { Peer, parseAddress } from "@switchyard/net";
import { type FleetEvent, type FleetStatus, HOP_STATS_OP, type HopStats, type ProcessStatus, type Role } from "@switchyard/wire";

export type { FleetEvent, FleetStatus, ProcessStatus };

/** What the watchdog knows of a member without asking it. */
export interface MemberFacts extends Omit<ProcessStatus, "role" | "memoryBytes" | "requests" | "errors" | "inflight" | "hop"> {
  role: Exclude<Role, "watchdog">;
}

const PROBE_TIMEOUT_MS = 500;
const EVENTS_KEPT = 50;

/** Resident memory of a process from /proc (Linux); null elsewhere or when it is gone. */
export function residentBytes(pid: number | null): number | null {
  if (pid === null) return null;
  try {
    const pages = Number(readFileSync(`/proc/${pid}/statm`, "utf8").split(" ")[1]);
    return Number.isFinite(pages) ? pages * 4096 : null;
  } catch {
    return null;
  }
}

/**
 * Gathers the fleet's status: the watchdog's own facts about each member, plus what each member's
 * listener says of its load (a wire ping) and, from the servers, who leads the rooms group. Keeps
 * the last lifecycle events, and records an election when the leader it sees changes.
 */
export class StatusCollector {
  private readonly peers = new Map<string, Peer>();
  /** Peers whose first connection has not opened yet: a ping would be refused, so the first probe waits (briefly). */
  private readonly opening = new Map<Peer, Promise<void>>();
  private readonly events: FleetEvent[] = [];
  private leader: number | null = null;
  private readonly startedAt = Date.now();

  record(kind: FleetEvent["kind"], text: string): void {
    this.events.unshift({ time: Date.now(), kind, text });
    this.events.length = Math.min(this.events.length, EVENTS_KEPT);
  }

  async collect(members: readonly MemberFacts[], topology: FleetStatus["topology"]): Promise<FleetStatus> {
    // A removed member's connection is closed, not redialled forever.
    const addresses = new Set(members.map((m) => m.address));
    for (const [address, peer] of this.peers) {
      if (!addresses.has(address)) {
        peer.close();
        this.peers.delete(address);
      }
    }
    const probed = await Promise.all(members.map((member) => this.probe(member)));
    const groups = probed.flatMap(([, group]) => (group === undefined ? [] : [group]));
    // The newest leadership any server knows of is the group's.
    const newest = groups.reduce<{ leader: number | null; epoch: number } | undefined>((best, g) => (best === undefined || g.epoch > best.epoch ? g : best), undefined);
    const leader = newest?.leader ?? null;
    if (leader !== null && leader !== this.leader) this.record("election", `Election completed. Group Leader: ${leader} (epoch ${newest?.epoch})`);
    if (leader !== null) this.leader = leader;
    const self: ProcessStatus = {
      role: "watchdog",
      n: 0,
      name: "Watchdog",
      pid: process.pid,
      state: "up",
      restarts: 0,
      uptimeSeconds: (Date.now() - this.startedAt) / 1000,
      memoryBytes: residentBytes(process.pid),
      requests: 0,
      errors: 0,
      inflight: 0,
      proxy: null,
      address: null,
    };
    return {
      time: Date.now(),
      topology,
      processes: [self, ...probed.map(([process]) => process)],
      rooms: { leader, epoch: newest?.epoch ?? null },
      events: [...this.events],
    };
  }

  close(): void {
    for (const peer of this.peers.values()) peer.close();
    this.peers.clear();
  }

  private async probe(member: MemberFacts): Promise<[ProcessStatus, { leader: number | null; epoch: number } | undefined]> {
    const status: ProcessStatus = { ...member, memoryBytes: residentBytes(member.pid), requests: 0, errors: 0, inflight: 0 };
    if (member.pid === null || member.address === null || member.state !== "up") return [status, undefined];
    const peer = this.peerFor(member.address);
    await this.opening.get(peer);
    // A server knows the rooms group; a hop (load balancer, reverse proxy) its upstreams.
    const [load, group, hop] = await Promise.allSettled([
      peer.ping(PROBE_TIMEOUT_MS),
      member.role === "server" ? (peer.request("group.status", {}, PROBE_TIMEOUT_MS) as Promise<{ leader?: number | null; epoch?: number }>) : Promise.reject(new Error("not a server")),
      member.role === "server" ? Promise.reject(new Error("not a hop")) : (peer.request(HOP_STATS_OP, {}, PROBE_TIMEOUT_MS) as Promise<HopStats>),
    ]);
    if (load.status === "fulfilled") Object.assign(status, { requests: load.value.total, errors: load.value.errors, inflight: load.value.inflight });
    if (hop.status === "fulfilled" && Array.isArray(hop.value?.upstreams)) {
      status.hop = hop.value;
      // The load balancer's front door answers HTTP besides the wire: that is load it served too.
      const http = hop.value.http;
      if (http !== undefined) Object.assign(status, { requests: status.requests + http.requests, errors: status.errors + http.errors, inflight: status.inflight + http.inflight });
    }
    const answer = group.status === "fulfilled" ? group.value : undefined;
    return [status, answer && typeof answer.epoch === "number" ? { leader: answer.leader ?? null, epoch: answer.epoch } : undefined];
  }

  private peerFor(address: string): Peer {
    let peer = this.peers.get(address);
    if (peer === undefined) {
      const { promise: opened, resolve } = Promise.withResolvers<void>();
      const timer = setTimeout(resolve, PROBE_TIMEOUT_MS).unref();
      peer = new Peer({
        address: parseAddress(address),
        role: "watchdog",
        id: 0,
        timeoutMs: PROBE_TIMEOUT_MS,
        connectTimeoutMs: PROBE_TIMEOUT_MS,
        backoff: { initialMs: 100, maxMs: 1000 },
        onStateChange: (state) => {
          if (state === "connecting") return;
          clearTimeout(timer);
          resolve();
        },
      });
      const created = peer;
      this.opening.set(created, opened);
      void opened.then(() => this.opening.delete(created));
      this.peers.set(address, peer);
    }
    return peer;
  }
}
