import { describe, expect, test } from "bun:test";
import { type FakeUpstream, fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import { leastLoaded } from "./least-loaded.ts";

runPolicyConformance(leastLoaded);

/** An upstream whose last health check reported `reported` requests in flight. */
function reporting(n: number, reported: number, inflight = 0): FakeUpstream {
  const u = fakeUpstream(n, true, inflight);
  u.load = { inflight: reported, total: 100, errors: 0 };
  return u;
}

describe("least-loaded", () => {
  test("picks the upstream whose health check reported the least work", () => {
    const pool = [reporting(1, 10), reporting(2, 2), reporting(3, 5)];
    const policy = makePolicy(leastLoaded);
    for (let i = 0; i < 5; i++) expect(policy.select(pool, i)?.n).toBe(2);
  });

  test("a fresh low report moves traffic to the upstream that reported it", () => {
    const pool = [reporting(1, 10), reporting(2, 2), reporting(3, 5)];
    const policy = makePolicy(leastLoaded);
    expect(policy.select(pool, 0)?.n).toBe(2);
    pool[0]!.load = { inflight: 0, total: 140, errors: 0 };
    pool[1]!.load = { inflight: 8, total: 120, errors: 0 };
    expect(policy.select(pool, 0)?.n).toBe(1);
  });

  test("counts what this hop sent since the report, so a low report does not take every request", () => {
    const pool = [reporting(1, 6), reporting(2, 2), reporting(3, 4)];
    const policy = makePolicy(leastLoaded);
    const picks = Array.from({ length: 8 }, () => {
      const picked = policy.select(pool, 0)!;
      picked.inflight++;
      return picked.n;
    });
    // 2 climbs from 2 to 4 and ties with 3; the two alternate up to 6, where 1 (reported 6, sent none) joins in.
    expect(picks).toEqual([2, 2, 3, 2, 3, 2, 3, 1]);
  });

  test("without reports it falls back to this hop's in-flight counts", () => {
    const pool = [fakeUpstream(1, true, 3), fakeUpstream(2, true, 1), fakeUpstream(3, true, 2)];
    expect(makePolicy(leastLoaded).select(pool, 0)?.n).toBe(2);
  });

  test("an upstream not reported yet competes on its in-flight count alone", () => {
    const pool = [reporting(1, 4), fakeUpstream(2, true, 2)];
    expect(makePolicy(leastLoaded).select(pool, 0)?.n).toBe(2);
    pool[1]!.inflight = 5;
    expect(makePolicy(leastLoaded).select(pool, 0)?.n).toBe(1);
  });

  test("ignores a down upstream however low its report, and spreads ties in turn", () => {
    const pool = [reporting(1, 3), reporting(2, 3), reporting(3, 3), reporting(4, 0)];
    pool[3]!.available = false;
    const policy = makePolicy(leastLoaded);
    expect(Array.from({ length: 6 }, () => policy.select(pool, 0)?.n)).toEqual([1, 2, 3, 1, 2, 3]);
  });
});
