import { expect, test } from "bun:test";
import { seededRandom } from "@switchyard/testing/random";
import type { LoadStats } from "@switchyard/wire";
import type { Candidate, Policy, PolicyDeps, PolicyFactory } from "./policy.ts";
import { PolicyParams } from "./policies/params.ts";

/** A candidate whose availability and load the test controls. */
export interface FakeUpstream extends Candidate {
  available: boolean;
  inflight: number;
  load: LoadStats | undefined;
}

export function fakeUpstream(n: number, available = true, inflight = 0): FakeUpstream {
  return { n, available, inflight, load: undefined };
}

/** Deterministic randomness and a clock the test moves. */
export function testDeps(seed = 1): PolicyDeps & { advance(ms: number): void } {
  let t = 0;
  return {
    random: seededRandom(seed),
    now: () => t,
    advance(ms) {
      t += ms;
    },
  };
}

/** A policy from its factory with default options and test randomness. */
export function makePolicy(factory: PolicyFactory, spec = "", seed = 1): Policy {
  return factory.create(PolicyParams.parse(spec === "" ? factory.name : `${factory.name}:${spec}`), testDeps(seed));
}

/** What every policy must do, whatever it prefers (DESIGN §6). */
export function runPolicyConformance(factory: PolicyFactory, spec = ""): void {
  const name = spec === "" ? factory.name : `${factory.name}:${spec}`;
  const make = () => makePolicy(factory, spec);
  const keys = Array.from({ length: 300 }, (_, i) => i + 1);

  test(`${name}: an empty pool gives undefined`, () => {
    expect(make().select([], 7)).toBeUndefined();
  });
  test(`${name}: a pool with nothing available gives undefined`, () => {
    const pool = [fakeUpstream(1, false), fakeUpstream(2, false)];
    expect(make().select(pool, 7)).toBeUndefined();
  });
  test(`${name}: never picks an unavailable upstream, and always picks the one that is left`, () => {
    const pool = [fakeUpstream(1, false), fakeUpstream(2), fakeUpstream(3, false)];
    const policy = make();
    for (const key of keys) expect(policy.select(pool, key)?.n).toBe(2);
  });
  test(`${name}: only picks members of the pool it is given, also after the pool changed`, () => {
    const policy = make();
    const first = [fakeUpstream(4), fakeUpstream(5), fakeUpstream(6)];
    for (const key of keys) expect(first).toContain(policy.select(first, key)!);
    const second = [fakeUpstream(5), fakeUpstream(7)];
    for (const key of keys) expect(second).toContain(policy.select(second, key)!);
    const grown = [...second, fakeUpstream(8), fakeUpstream(9)];
    for (const key of keys) expect(grown).toContain(policy.select(grown, key)!);
  });
  test(`${name}: any numeric key is accepted (0, negative, fractional, huge)`, () => {
    const pool = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    const policy = make();
    for (const key of [0, -1, -123456, 0.5, 2 ** 32, Number.MAX_SAFE_INTEGER, 999_999]) expect(pool).toContain(policy.select(pool, key)!);
  });
  test(`${name}: with a live pool every upstream gets some of 3,000 keys`, () => {
    const pool = [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];
    const policy = make();
    const seen = new Set<number>();
    for (let key = 1; key <= 3000; key++) {
      const picked = policy.select(pool, key)!;
      seen.add(picked.n);
    }
    expect([...seen].sort()).toEqual([1, 2, 3]);
  });
  test(`${name}: the same injected randomness gives the same choices`, () => {
    const pool = () => [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3), fakeUpstream(4)];
    const run = () => {
      const policy = makePolicy(factory, spec, 99);
      const p = pool();
      return keys.map((key) => policy.select(p, key)?.n);
    };
    expect(run()).toEqual(run());
  });
}
