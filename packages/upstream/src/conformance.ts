import { expect, test } from "bun:test";
import type { Peer } from "@switchyard/net";
import type { Policy } from "./policy.ts";
import type { Upstream } from "./pool.ts";

/** An upstream whose availability the test controls; policies only read `peer.available`. */
export function fakeUpstream(n: number, available = true): Upstream & { setAvailable(v: boolean): void } {
  const peer = { available } as { available: boolean };
  return {
    n,
    label: `Upstream #${n}`,
    peer: peer as unknown as Peer, // Policies read nothing but `available`.
    setAvailable(v: boolean) {
      peer.available = v;
    },
  };
}

/** What every policy must do, whatever it prefers (DESIGN §6). */
export function runPolicyConformance(name: string, make: () => Policy): void {
  test(`${name}: an empty pool gives undefined`, () => {
    expect(make().select([], 7)).toBeUndefined();
  });
  test(`${name}: a pool with nothing available gives undefined`, () => {
    const pool = [fakeUpstream(1, false), fakeUpstream(2, false)];
    expect(make().select(pool, 7)).toBeUndefined();
  });
  test(`${name}: never picks an unavailable upstream`, () => {
    const pool = [fakeUpstream(1, false), fakeUpstream(2), fakeUpstream(3, false)];
    const policy = make();
    for (let key = 1; key <= 200; key++) expect(policy.select(pool, key)?.n).toBe(2);
  });
  test(`${name}: only picks members of the pool`, () => {
    const pool = [fakeUpstream(4), fakeUpstream(5), fakeUpstream(6)];
    const policy = make();
    const members: readonly Upstream[] = pool;
    for (let key = 1; key <= 200; key++) expect(members).toContain(policy.select(pool, key)!);
  });
}
