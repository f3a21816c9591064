import type { Logger } from "@switchyard/log";
import { RequestError } from "@switchyard/net";
import type { RoomsCommand } from "@switchyard/rooms";
import { decide } from "./decide.ts";
import type { Effect, RoomStore, Snapshot } from "./store.ts";

/** Another server of the group: its election id and where it listens (a wire address URI). */
export interface Member {
  id: number;
  address: string;
}

/** How group messages travel (the wire protocol between servers; in memory in tests). */
export interface GroupTransport {
  send(member: Member, op: string, body: unknown, timeoutMs: number): Promise<unknown>;
}

export interface GroupTimings {
  /** Between a follower's heartbeats to the leader, and the leader's pings to its followers. */
  heartbeatMs: number;
  /** A heartbeat (or any group message) not answered within this means the other side failed. */
  heartbeatTimeoutMs: number;
  /** How long an election waits for a higher server to answer, and then for its announcement. */
  electionTimeoutMs: number;
}

export const DEFAULT_TIMINGS: GroupTimings = { heartbeatMs: 250, heartbeatTimeoutMs: 1000, electionTimeoutMs: 500 };

export interface GroupOptions {
  self: Member;
  store: RoomStore;
  transport: GroupTransport;
  /** The members known now (the run directory's registry, the --join seeds): asked before every election and heartbeat. */
  discover(): Member[];
  timings?: Partial<GroupTimings>;
  log: Logger;
}

/** What the rooms service answers: the seed's lines, and the data version they were read at (for the client's cache). */
export interface RoomsAnswer {
  lines: string[];
  version: number;
}

type Reply = { ok?: boolean; reason?: string; epoch?: number; version?: number; lastEpoch?: number; leader?: number };

/** A leader's state is behind this server's: it must catch up from here before it can lead here. */
class Behind extends Error {}

/** Whether replica a is further than b: a newer leader's last write, or as new and more of them. */
function ahead(a: { lastEpoch?: number; version?: number }, b: { lastEpoch: number; version: number }): boolean {
  const epoch = a.lastEpoch ?? 0;
  return epoch > b.lastEpoch || (epoch === b.lastEpoch && (a.version ?? 0) > b.version);
}

/**
 * One server's part in the group (seeds/004): the bully election (highest id wins), heartbeats
 * both ways, and replication. Every leadership has an epoch that only grows and is persisted; the
 * leader stamps each write with it and a server refuses writes of an older epoch, so a paused or
 * partitioned former leader can never confirm a write (it steps down when refused). A write is
 * confirmed only once every live follower stored it. A new leader first catches up from the most
 * advanced member, then announces itself; followers copy its state before they ack.
 */
export class Group {
  leader: number | undefined;
  private readonly timings: GroupTimings;
  private readonly members = new Map<number, Member>();
  /** Leader only: followers and when they last answered. */
  private readonly followers = new Map<number, number>();
  /** Leader only: members that did not answer a write or a ping; left out of writes until a ping reaches them. */
  private readonly unreachable = new Set<number>();
  /** Leader only: until when it may answer reads without asking its followers (see pingFollowers). */
  private leaseUntil = 0;
  private electing = false;
  private electingSince = 0;
  /** Leader only: caught up and announced, so it may answer. */
  private serving = false;
  private writes: Promise<unknown> = Promise.resolve();
  private timer: Timer | undefined;
  private waitingForLeader: Timer | undefined;
  private stopped = false;

  constructor(private readonly options: GroupOptions) {
    this.timings = { ...DEFAULT_TIMINGS, ...options.timings };
  }

  private get id(): number {
    return this.options.self.id;
  }

  private get store(): RoomStore {
    return this.options.store;
  }

  get isLeader(): boolean {
    return this.leader === this.id && this.serving;
  }

  start(): void {
    this.options.log.info(`Server ${this.id} started`);
    this.elect(0);
    this.timer = setInterval(() => this.background(() => this.tick()), this.timings.heartbeatMs);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    clearTimeout(this.waitingForLeader);
  }

  /** A rooms command from a client (through a proxy): executed here when leading, else by the leader. */
  async execute(command: RoomsCommand, client: number, key: string): Promise<RoomsAnswer> {
    const deadline = performance.now() + this.timings.heartbeatTimeoutMs + 3 * this.timings.electionTimeoutMs;
    for (;;) {
      if (this.isLeader) {
        try {
          return await this.lead(command, client, key);
        } catch (error) {
          // It stopped leading while the command waited its turn: find the leader now.
          if (!(error instanceof RequestError) || error.code !== "not_leader") throw error;
        }
      }
      const leader = this.leader === undefined || this.leader === this.id ? undefined : this.members.get(this.leader);
      if (leader !== undefined) {
        try {
          return (await this.options.transport.send(leader, "group.execute", { command, client, key }, this.timings.heartbeatTimeoutMs * 2)) as RoomsAnswer;
        } catch (error) {
          if (!(error instanceof RequestError) || error.code !== "not_leader") throw new RequestError("unavailable", `the group leader ${leader.id} did not answer (${(error as Error).message}); retry`);
        }
      }
      if (performance.now() >= deadline) throw new RequestError("unavailable", "no group leader (an election is running); retry");
      await Bun.sleep(50);
    }
  }

  /** The group's messages, from the other servers. */
  async onMessage(op: string, body: unknown): Promise<unknown> {
    const message = (body ?? {}) as Record<string, unknown>;
    const sender = message.sender as Partial<Member> | undefined;
    if (sender !== undefined && typeof sender.id === "number" && typeof sender.address === "string" && !this.members.has(sender.id)) this.learn([{ id: sender.id, address: sender.address }], false);
    switch (op) {
      case "group.election":
        return this.onElection(Number(message.from));
      case "group.propose":
        return this.onPropose(Number(message.leader), Number(message.epoch));
      case "group.coordinator":
        return this.onCoordinator(Number(message.leader), Number(message.epoch));
      case "group.heartbeat":
        return this.onHeartbeat(Number(message.from), Number(message.version), Number(message.lastEpoch ?? 0));
      case "group.ping":
        return this.onPing(Number(message.leader), Number(message.epoch));
      case "group.replicate":
        return this.onReplicate(Number(message.leader), Number(message.epoch), Number(message.version), message.effect as Effect);
      case "group.sync":
        return this.onSync(Number(message.from));
      case "group.status":
        return { id: this.id, leader: this.leader ?? null, epoch: this.store.epoch, version: this.store.version, serving: this.isLeader };
      case "group.hello":
        return this.onHello(Number(message.id), String(message.address ?? ""));
      case "group.execute": {
        if (!this.isLeader) throw new RequestError("not_leader", `server ${this.id} is not the group leader`);
        const { command, client, key } = message as { command: RoomsCommand; client: number; key: string };
        return this.lead(command, client, key);
      }
      default:
        throw new RequestError("unknown_op", `unknown group message "${op}"`);
    }
  }

  // --- membership ------------------------------------------------------------------------------

  /** A server announcing itself (through a --join seed): it becomes a member; the answer lists every member known here. */
  private onHello(id: number, address: string): { members: Member[] } {
    const others = [...this.members.values()];
    if (Number.isSafeInteger(id) && id > 0 && address !== "") this.learn([{ id, address }]);
    return { members: [this.options.self, ...others] };
  }

  /** Members learned from others (a --join seed's answer), added to what discovery finds. */
  learn(members: readonly Member[], elect = true): void {
    const known = this.members.size;
    for (const member of members) if (member.id !== this.id && Number.isSafeInteger(member.id) && member.id > 0) this.members.set(member.id, member);
    // As for a member found in the registry: a leader holds an election, so the highest leads them all.
    if (elect && this.members.size > known && this.leader === this.id && !this.stopped) this.elect(0);
  }

  // --- elections -------------------------------------------------------------------------------

  private refresh(): Member[] {
    for (const member of this.options.discover()) if (member.id !== this.id) this.members.set(member.id, member);
    return [...this.members.values()];
  }

  /** Runs work of the group's own (an election, a heartbeat) in the background: a failure is logged, never thrown; none counts once stopped. */
  private background(task: () => Promise<unknown>): void {
    task().catch((error: unknown) => {
      if (!this.stopped) this.options.log.warn(`Server ${this.id}: ${(error as Error).message}`);
    });
  }

  /** Starts the bully election in the background (see runElection). */
  private elect(initiator: number): void {
    this.background(() => this.runElection(initiator));
  }

  /** The bully election: the higher servers are asked; if none answers, this one leads. */
  private async runElection(initiator: number): Promise<void> {
    if (this.stopped) return;
    if (this.electing) {
      // Every wait inside an election is bounded; one that still runs after this long is stuck somewhere: start over.
      if (performance.now() - this.electingSince < this.timings.electionTimeoutMs * 20) return;
      this.options.log.warn(`Server ${this.id}: an election ran for ${Math.round(performance.now() - this.electingSince)} ms; starting over`);
    }
    this.electing = true;
    this.electingSince = performance.now();
    this.options.log.info(`${this.id} is running an election initiated by ${initiator}`);
    try {
      const members = this.refresh();
      const ask = (member: Member) => this.send(member, "group.election", { from: this.id }, this.timings.electionTimeoutMs);
      // The lower ones hear of it too (the seed's multicast: they log it); only a higher one's answer stops this one.
      for (const member of members) if (member.id < this.id) void ask(member).catch(() => undefined);
      const answers = await Promise.allSettled(members.filter((m) => m.id > this.id).map(ask));
      if (answers.some((a) => a.status === "fulfilled" && (a.value as Reply).ok === true)) {
        this.awaitLeader();
        return;
      }
      await this.becomeLeader(members);
    } finally {
      this.electing = false;
    }
  }

  /** A higher server is running its election: if no leader is announced in time, elect again. */
  private awaitLeader(): void {
    clearTimeout(this.waitingForLeader);
    const before = this.leader;
    this.leader = undefined;
    this.waitingForLeader = setTimeout(() => {
      this.waitingForLeader = undefined;
      if (this.leader === undefined || this.leader === before) this.elect(0);
    }, this.timings.electionTimeoutMs * 4);
  }

  private async becomeLeader(members: Member[]): Promise<void> {
    let epoch = this.store.epoch + 1;
    for (let round = 0; round < 5; round++) {
      // Phase 1: every reachable member learns the new epoch (from now on it refuses the old leader's writes) and says how far it is.
      const replies = await this.ask(members, "group.propose", { leader: this.id, epoch });
      if (replies.some(([, r]) => r.reason === "higher")) {
        this.awaitLeader();
        return;
      }
      const newer = Math.max(0, ...replies.map(([, r]) => (r.ok === false ? (r.epoch ?? 0) : 0)));
      if (newer >= epoch) {
        epoch = newer + 1;
        continue;
      }
      this.store.raiseEpoch(epoch);
      this.leader = this.id;
      this.serving = false;
      this.followers.clear();
      // Catch up from the most advanced member: what the previous leader confirmed is there.
      let best: [Member, Reply] | undefined;
      for (const reply of replies) {
        const [, r] = reply;
        const bar = best === undefined ? this.store : { lastEpoch: best[1].lastEpoch ?? 0, version: best[1].version ?? 0 };
        if (r.ok === true && ahead(r, bar)) best = reply;
      }
      if (best !== undefined) {
        try {
          await this.syncFrom(best[0]);
        } catch (error) {
          // Leading without what it holds could lose confirmed writes: not now; elect again later.
          this.options.log.warn(`Server ${this.id} could not catch up from ${best[0].id} (${(error as Error).message}); not leading yet`);
          this.leader = undefined;
          this.awaitLeader();
          return;
        }
      }
      // Phase 2: the announcement; each follower copies this state before it acks.
      const acks = await this.ask(members, "group.coordinator", { leader: this.id, epoch });
      if (this.leader !== this.id || this.store.epoch !== epoch) return; // a newer leader appeared meanwhile
      const superseded = Math.max(0, ...acks.map(([, r]) => (r.ok === false ? (r.epoch ?? 0) : 0)));
      const aheadOfUs = acks.find(([, r]) => r.reason === "behind");
      if (aheadOfUs !== undefined) {
        // A member holds more than this leader did (it answered too late to be caught up from): take
        // its state, then announce again so every member copies it.
        if (!(await this.catchUpFrom(aheadOfUs[0]))) return;
        continue;
      }
      if (superseded > epoch) {
        // A member knows a newer epoch than this announcement's: elect again above it.
        this.store.raiseEpoch(superseded);
        this.leader = undefined;
        setTimeout(() => this.elect(0), this.timings.electionTimeoutMs);
        return;
      }
      for (const [member, reply] of acks) if (reply.ok === true) this.followers.set(member.id, performance.now());
      // A member that did not answer the announcement (the hung former leader, say) is left out of
      // writes from the start, as one that failed a write would be, until a ping reaches it.
      this.unreachable.clear();
      for (const member of members) if (!acks.some(([m]) => m.id === member.id)) this.unreachable.add(member.id);
      this.serving = true;
      this.options.log.info(`Election completed. Group Leader: ${this.id}`);
      return;
    }
  }

  private onElection(from: number): Reply {
    if (from > this.id) {
      // A higher server runs an election: it will lead; this one waits for its announcement.
      this.options.log.info(`${this.id} is running an election initiated by ${from}`);
      // From the leader this server already follows, it changes nothing: it ends with that leader
      // announcing itself again (and it may be a late copy of the election that made it leader;
      // dropping the leader for it left this server without one, and its failure unnoticed).
      if (this.leader === from) return { ok: false };
      if (this.leader === this.id) this.stepDown(`server ${from} runs an election`);
      this.awaitLeader();
      return { ok: false };
    }
    // The seed's line, even when this server's own election is already under way.
    if (this.electing) this.options.log.info(`${this.id} is running an election initiated by ${from}`);
    else this.elect(from);
    return { ok: true };
  }

  private onPropose(leader: number, epoch: number): Reply {
    if (leader < this.id && !this.stopped) {
      this.elect(leader);
      return { ok: false, reason: "higher", epoch: this.store.epoch };
    }
    if (epoch <= this.store.epoch) return { ok: false, reason: "epoch", epoch: this.store.epoch };
    this.store.raiseEpoch(epoch);
    if (this.leader === this.id) this.stepDown(`server ${leader} proposes epoch ${epoch}`);
    return { ok: true, version: this.store.version, lastEpoch: this.store.lastEpoch, epoch };
  }

  private async onCoordinator(leader: number, epoch: number): Promise<Reply> {
    if (epoch < this.store.epoch) return { ok: false, reason: "epoch", epoch: this.store.epoch };
    this.store.raiseEpoch(epoch);
    if (this.leader === this.id && leader !== this.id) this.stepDown(`server ${leader} leads epoch ${epoch}`);
    clearTimeout(this.waitingForLeader);
    this.waitingForLeader = undefined;
    const copied = await this.trySync(leader);
    // The announcer is behind this server: it must catch up from here (it elects again and will).
    if (copied === "behind") return { ok: false, reason: "behind", epoch: this.store.epoch, version: this.store.version, lastEpoch: this.store.lastEpoch };
    // A newer leader announced itself while this one's state was on its way: that one counts (the
    // announcer hears it was superseded and elects again, with a higher epoch, if it should lead).
    if (copied !== true || this.store.epoch !== epoch) return { ok: false, reason: "superseded", epoch: this.store.epoch };
    this.leader = leader;
    this.options.log.info(`Election completed. Group Leader: ${leader}`);
    return { ok: true, version: this.store.version };
  }

  private stepDown(why: string): void {
    this.options.log.warn(`Server ${this.id} steps down as group leader: ${why}`);
    this.serving = false;
    this.followers.clear();
    this.leader = undefined;
  }

  // --- heartbeats -----------------------------------------------------------------------------

  private async tick(): Promise<void> {
    if (this.stopped) return;
    if (this.electing) {
      if (this.leader === undefined && performance.now() - this.electingSince >= this.timings.electionTimeoutMs * 20) this.elect(0);
      return;
    }
    // A leader that discovers a new member holds an election: servers that started at the same
    // moment each led alone, and the highest of them must end up leading them all.
    const known = this.members.size;
    this.refresh();
    if (this.members.size > known && this.leader === this.id) {
      this.elect(0);
      return;
    }
    const leader = this.leader;
    if (leader === this.id) {
      if (this.serving) await this.pingFollowers("reachable");
      return;
    }
    if (leader === undefined) {
      if (this.waitingForLeader === undefined) this.elect(0);
      return;
    }
    const member = this.members.get(leader);
    try {
      if (member === undefined) throw new Error("not a known member");
      const reply = (await this.send(member, "group.heartbeat", { from: this.id, version: this.store.version, lastEpoch: this.store.lastEpoch }, this.timings.heartbeatTimeoutMs)) as Reply;
      if (this.leader !== leader) return;
      if (reply.leader !== leader) {
        // It answered, so it did not fail: it is between leaderships (its own election runs) or follows a newer one.
        if (reply.leader === undefined) this.awaitLeader();
        else {
          this.options.log.info(`Group leader ${leader} now follows ${reply.leader}`);
          this.leader = undefined;
          this.elect(0);
        }
        return;
      }
      // Behind the leader (a write missed while it had dropped this follower): copy its state, which makes this a follower again.
      if (reply.version !== this.store.version || reply.lastEpoch !== this.store.lastEpoch) await this.trySync(leader);
    } catch (error) {
      if (this.leader !== leader || this.stopped) return;
      this.options.log.warn(`Heartbeat to group leader ${leader} failed (${(error as Error).message})`);
      this.leader = undefined;
      this.elect(0);
    }
  }

  /**
   * The leader's side, to every known member: followers that stopped answering are dropped; one
   * that knows a newer epoch makes it step down; one that follows another leader (two groups that
   * formed apart, as servers started at one moment) makes it hold an election, which unites them.
   * Waits for the members not counted out ("reachable"), or for every one ("all"); true when it
   * still leads and none of them follows another leader, which renews its read lease.
   */
  private async pingFollowers(waitFor: "reachable" | "all", timeoutMs = this.timings.heartbeatTimeoutMs): Promise<boolean> {
    const started = performance.now();
    const epoch = this.store.epoch;
    let split = false;
    const pings = [...this.members.values()].map((member) => {
      const ping = (async () => {
        try {
          const reply = (await this.send(member, "group.ping", { leader: this.id, epoch }, timeoutMs)) as Reply;
          if (reply.ok !== false) {
            if (this.followers.has(member.id)) this.followers.set(member.id, performance.now());
            this.unreachable.delete(member.id);
            return;
          }
          if ((reply.epoch ?? 0) > this.store.epoch) {
            this.store.raiseEpoch(reply.epoch ?? 0);
            if (this.leader === this.id) this.stepDown(`server ${member.id} knows epoch ${reply.epoch}`);
          } else split = true;
        } catch {
          this.followers.delete(member.id);
          this.unreachable.add(member.id);
        }
      })();
      // One counted out is still pinged (it is let back in when it answers), but not waited for.
      return waitFor === "all" || !this.unreachable.has(member.id) ? ping : undefined;
    });
    await Promise.all(pings);
    if (split && this.leader === this.id) this.elect(0);
    if (split || !this.isLeader || this.store.epoch !== epoch) return false;
    // Followers elect another leader only after a heartbeat went unanswered for a whole timeout,
    // so for half of one after this round began none of them can have done so: reads are current.
    this.leaseUntil = started + this.timings.heartbeatTimeoutMs / 2;
    return true;
  }

  private onHeartbeat(from: number, version: number, lastEpoch: number): Reply {
    if (!this.isLeader) return { leader: this.leader };
    if (ahead({ lastEpoch, version }, this.store)) {
      // A follower holds more than this leader (which has not written yet in its epoch): take its state first.
      const member = this.members.get(from);
      if (member !== undefined) this.background(() => this.catchUpFrom(member));
    }
    if (version === this.store.version) this.followers.set(from, performance.now());
    return { leader: this.id, epoch: this.store.epoch, version: this.store.version, lastEpoch: this.store.lastEpoch };
  }

  private onPing(leader: number, epoch: number): Reply {
    if (epoch < this.store.epoch || (this.leader !== undefined && this.leader !== leader)) return { ok: false, epoch: this.store.epoch };
    return { ok: true };
  }

  // --- replication ----------------------------------------------------------------------------

  /** Leader: answers a command; a change is applied here, then stored by every live follower, then confirmed. */
  private lead(command: RoomsCommand, client: number, key: string): Promise<RoomsAnswer> {
    // One decision at a time, in order: each sees the writes before it.
    const run = async (): Promise<RoomsAnswer> => {
      if (!this.isLeader) throw new RequestError("not_leader", `server ${this.id} is not the group leader`);
      // A read is answered only while the lease holds: a leader that was paused (SIGSTOP) past it
      // asks its followers first, and learns that it was replaced instead of answering from an old state.
      if (command.cmd === "check" && performance.now() >= this.leaseUntil && !(await this.pingFollowers("reachable"))) {
        throw new RequestError("not_leader", `server ${this.id} is no longer the group leader`);
      }
      const decision = decide(this.store, command, client, key);
      if (decision.effect === undefined) return { lines: decision.lines, version: this.store.version };
      await this.replicate(decision.effect);
      return { lines: decision.lines, version: this.store.version };
    };
    const result = this.writes.then(run, run);
    this.writes = result.catch(() => undefined);
    return result;
  }

  private async replicate(effect: Effect): Promise<void> {
    const epoch = this.store.epoch;
    const version = this.store.version + 1;
    this.store.apply(effect, version, epoch);
    // Every known member, not only those that acknowledged this leader: one that follows another
    // leader refuses (a newer epoch) or comes over (an older one), so two leaders that formed apart
    // can never both confirm writes while they reach each other. Only one that does not answer is
    // counted out, as a failed member.
    const targets = [...this.members.values()].filter((m) => !this.unreachable.has(m.id));
    let countedOut = false;
    const replies = await Promise.all(
      targets.map(async (member) => {
        try {
          return (await this.send(member, "group.replicate", { leader: this.id, epoch, version, effect }, this.timings.heartbeatTimeoutMs)) as Reply;
        } catch {
          // Not answering: not live. It is left out of writes until a ping reaches it, and copies the state when it is heard from again.
          this.followers.delete(member.id);
          this.unreachable.add(member.id);
          countedOut = true;
          return { ok: true } as Reply;
        }
      }),
    );
    const newer = Math.max(0, ...replies.map((r) => (r.ok === false ? (r.epoch ?? 0) : 0)));
    if (newer > epoch || replies.some((r) => r.ok === false)) {
      this.store.raiseEpoch(newer);
      this.stepDown(`a follower refused epoch ${epoch} (it knows ${newer})`);
      throw this.notConfirmed();
    }
    // A member counted out by a timeout may instead be one that moved on while this leader was
    // paused: its refusal, waiting in the socket, loses the race to the timer that expired during
    // the pause. Before confirming without it, every member is asked again, afresh (a live one
    // answers well within an election timeout; a hung one costs that much once).
    if (countedOut && !(await this.pingFollowers("all", this.timings.electionTimeoutMs))) {
      if (this.leader === this.id) this.stepDown("it could not confirm that it still leads");
      throw this.notConfirmed();
    }
  }

  private notConfirmed(): RequestError {
    return new RequestError("unavailable", `server ${this.id} is no longer the group leader; the write was not confirmed, retry`);
  }

  private async onReplicate(leader: number, epoch: number, version: number, effect: Effect): Promise<Reply> {
    if (epoch < this.store.epoch) return { ok: false, reason: "epoch", epoch: this.store.epoch };
    if (epoch > this.store.epoch || this.leader !== leader) {
      // A leader this server had not heard of: follow it, with its state.
      this.store.raiseEpoch(epoch);
      if (this.leader === this.id) this.stepDown(`server ${leader} leads epoch ${epoch}`);
      this.leader = leader;
      const copied = await this.trySync(leader);
      if (copied === "behind") return { ok: false, reason: "behind", epoch: this.store.epoch };
      if (copied !== true || this.leader !== leader) return { ok: false, reason: "superseded", epoch: this.store.epoch };
      this.options.log.info(`Election completed. Group Leader: ${leader}`);
      return { ok: true };
    }
    if (version <= this.store.version) return { ok: true };
    if (version === this.store.version + 1) {
      this.store.apply(effect, version, epoch);
      return { ok: true };
    }
    const copied = await this.trySync(leader);
    return copied === true ? { ok: true } : { ok: false, reason: copied === "behind" ? "behind" : "superseded", epoch: this.store.epoch };
  }

  /** Any server's state; the leader also counts the asker as a follower from this moment (its next writes reach it). */
  private onSync(from: number): Snapshot {
    if (this.isLeader && Number.isFinite(from)) this.followers.set(from, performance.now());
    return this.store.snapshot();
  }

  /** Leader: stops answering, copies a member that is ahead, answers again; false if it could not (then it does not lead). */
  private async catchUpFrom(member: Member): Promise<boolean> {
    const wasServing = this.serving;
    this.serving = false;
    try {
      await this.syncFrom(member);
      this.serving = wasServing;
      return true;
    } catch (error) {
      this.options.log.warn(`Server ${this.id} could not catch up from ${member.id} (${(error as Error).message}); not leading`);
      this.stepDown(`could not catch up from ${member.id}`);
      return false;
    }
  }

  /** Copies the leader's state; false (not thrown) when that failed or came from an older leadership. */
  private async trySync(leader: number): Promise<boolean | "behind"> {
    try {
      await this.syncFrom(this.members.get(leader) ?? { id: leader, address: "" });
      return true;
    } catch (error) {
      return error instanceof Behind ? "behind" : false;
    }
  }

  private async syncFrom(member: Member): Promise<void> {
    if (member.address === "") this.refresh();
    const target = this.members.get(member.id) ?? member;
    const snapshot = (await this.send(target, "group.sync", { from: this.id }, this.timings.heartbeatTimeoutMs * 2)) as Snapshot;
    // A snapshot from a leadership older than what this server knows now (it arrived late) is not copied.
    if (snapshot.epoch < this.store.epoch) throw new Error(`the state of server ${member.id} is from epoch ${snapshot.epoch}, older than ${this.store.epoch}`);
    // Nor one behind this server's own: what it holds may have been confirmed; the leader must take it first.
    if (ahead(this.store, snapshot)) throw new Behind(`server ${member.id} is behind this one`);
    this.store.restore(snapshot);
  }

  // --- transport ------------------------------------------------------------------------------

  /** Every group message names its sender, so a member is learned from any contact (discovery may not have found it yet). */
  private send(member: Member, op: string, body: unknown, timeoutMs: number): Promise<unknown> {
    return this.options.transport.send(member, op, { ...(body as object), sender: this.options.self }, timeoutMs);
  }

  /** Sends to every member at once; the answers of those that answered. */
  private async ask(members: Member[], op: string, body: unknown): Promise<Array<[Member, Reply]>> {
    const settled = await Promise.allSettled(members.map((m) => this.send(m, op, body, this.timings.electionTimeoutMs)));
    return settled.flatMap((result, i) => (result.status === "fulfilled" ? [[members[i]!, result.value as Reply] as [Member, Reply]] : []));
  }
}
