// of seeds/002: 10,000 asynchronous `GET /home` requests through the front door
// of a flat fleet of N servers, for each way of hashing, counted per server from the answers.
import { startFlatFleet, servedPerServer } from "./fleets.ts";
import { sendLoad } from "./load.ts";
import { type Spread, spread } from "./model.ts";

/** One way of choosing a server: a policy spec for --lb-policy. */
export interface HashChoice {
  readonly id: string;
  /** How charts and tables name it. */
  readonly label: string;
  readonly policy: string;
}

// Every choice but Maglev is the seed's ring (M = 512 slots, K = 9 virtual servers, linear probing) unless its policy says otherwise.
export const SEED: HashChoice = { id: "seed", label: "seed's H, Φ", policy: "consistent-hash" };
export const POLY: HashChoice = { id: "poly-prime", label: "poly-prime", policy: "consistent-hash:hash=poly-prime,server-hash=poly-prime" };
export const MURMUR: HashChoice = { id: "murmur3", label: "murmur3", policy: "consistent-hash:hash=murmur3,server-hash=murmur3" };
export const XXH: HashChoice = { id: "xxh32", label: "xxh32", policy: "consistent-hash:hash=xxh32,server-hash=xxh32" };
export const XXH_MANY: HashChoice = { id: "xxh32-k160", label: "xxh32, K=160", policy: "consistent-hash:hash=xxh32,server-hash=xxh32,slots=65536,vnodes=160" };
export const MAGLEV: HashChoice = { id: "maglev", label: "Maglev", policy: "maglev" };

/** Every choice measured, in the order charts list them. */
export const CHOICES: readonly HashChoice[] = [SEED, POLY, MURMUR, XXH, XXH_MANY, MAGLEV];

export interface BalanceRun extends Spread {
  readonly choice: HashChoice;
  readonly n: number;
  readonly requests: number;
  readonly failed: number;
  readonly elapsedMs: number;
  /** Where the fleet's own per-server counts (GET /stats) differ from the answers read; empty when they agree. */
  readonly mismatch: string;
}

export interface BalanceOptions {
  readonly requests: number;
  readonly concurrency: number;
  readonly timeoutMs: number;
  /** Longest a run may take before it stops sending. */
  readonly durationMs: number;
}

/** One fleet of `n` servers with `choice`, `requests` requests through it, counted per server. */
export async function runBalance(choice: HashChoice, n: number, options: BalanceOptions, progress: (fraction: number) => void): Promise<BalanceRun> {
  const fleet = await startFlatFleet(n, choice.policy);
  try {
    const load = await sendLoad(fleet.base, { ...options, count: options.requests, onAnswer: (done) => progress(done / options.requests) });
    const counts = Array.from({ length: n }, (_, i) => load.perServer.get(i + 1) ?? 0);
    const served = await servedPerServer(fleet.base);
    const differ = counts.flatMap((c, i) => (served.get(i + 1) === c ? [] : [`server ${i + 1}: ${c} answers read, ${served.get(i + 1) ?? "none"} in /stats`]));
    return { choice, n, requests: options.requests, failed: load.failed, elapsedMs: load.elapsedMs, mismatch: differ.join("; "), ...spread(counts) };
  } finally {
    await fleet.stop();
  }
}
