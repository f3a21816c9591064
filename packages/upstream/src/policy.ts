import type { LoadStats } from "@switchyard/wire";
import type { PolicyParams } from "./policies/params.ts";

/** What a policy may read of an upstream (DESIGN §6): who it is, whether it may be used, how busy it is. */
export interface Candidate {
  /** The upstream's global number (Server #4 is 4): stable across restarts, so hashing policies key on it. */
  readonly n: number;
  /** Connected, passing its health checks and not draining. */
  readonly available: boolean;
  /** Requests this hop has sent it that are not answered yet. */
  readonly inflight: number;
  /** The upstream's own statistics from its last answered health check (all of its clients' load). */
  readonly load: LoadStats | undefined;
}

/**
 * A policy only chooses. `pool` is every configured upstream in order of n, available or not, so a
 * hashing policy can keep a key on its upstream while it lives and bring it back when it returns.
 * `key` is the client id for wire requests (an HTTP tier passes a request id or an address hash).
 */
export interface Policy {
  select<C extends Candidate>(pool: readonly C[], key: number): C | undefined;
}

/** Randomness and time, injected so tests are deterministic. */
export interface PolicyDeps {
  /** Uniform in [0, 1). */
  random(): number;
  /** Milliseconds, monotonic. */
  now(): number;
}

export const SYSTEM_DEPS: PolicyDeps = { random: Math.random, now: () => performance.now() };

/** One selectable policy: its name on the command line, its options and how to make one. */
export interface PolicyFactory {
  readonly name: string;
  /** One line for --help and the README: what it does and when to choose it. */
  readonly summary: string;
  /** Each option it reads, with its meaning and default, for --help and error messages. */
  readonly options: Readonly<Record<string, string>>;
  /** Throws UpstreamError("bad_policy") for an option value it cannot use. */
  create(params: PolicyParams, deps: PolicyDeps): Policy;
}
