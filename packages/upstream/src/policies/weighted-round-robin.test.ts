import { describe, expect, test } from "bun:test";
import { UpstreamError } from "../errors.ts";
import { type FakeUpstream, fakeUpstream, makePolicy, runPolicyConformance } from "../conformance.ts";
import { weightedRoundRobin } from "./weighted-round-robin.ts";

runPolicyConformance(weightedRoundRobin);
runPolicyConformance(weightedRoundRobin, "1=5,2=1,default=2");

const NAMES: Record<number, string> = { 1: "a", 2: "b", 3: "c" };

function sequence(spec: string, pool: FakeUpstream[], count: number): string {
  const policy = makePolicy(weightedRoundRobin, spec);
  return Array.from({ length: count }, () => NAMES[policy.select(pool, 0)?.n ?? 0] ?? "-").join(" ");
}

function counts(spec: string, pool: FakeUpstream[], count: number): Record<number, number> {
  const policy = makePolicy(weightedRoundRobin, spec);
  const out: Record<number, number> = {};
  for (let i = 0; i < count; i++) {
    const n = policy.select(pool, i)!.n;
    out[n] = (out[n] ?? 0) + 1;
  }
  return out;
}

function refusal(spec: string): unknown {
  try {
    makePolicy(weightedRoundRobin, spec);
  } catch (e) {
    return e;
  }
  return undefined;
}

describe("weighted-round-robin", () => {
  const pool = () => [fakeUpstream(1), fakeUpstream(2), fakeUpstream(3)];

  test("weights 5,1,1 interleave as nginx documents: a a b a c a a", () => {
    expect(sequence("1=5", pool(), 14)).toBe("a a b a c a a a a b a c a a");
  });

  test("gives exactly the weighted share over 7,000 picks", () => {
    expect(counts("1=5,2=1,3=1", pool(), 7000)).toEqual({ 1: 5000, 2: 1000, 3: 1000 });
  });

  test("default sets the weight of upstreams not named", () => {
    expect(counts("default=3,3=1", pool(), 7000)).toEqual({ 1: 3000, 2: 3000, 3: 1000 });
  });

  test("without weights it is plain round robin", () => {
    expect(sequence("", pool(), 6)).toBe("a b c a b c");
  });

  test("a down upstream is skipped; the others keep their smooth proportions, and it rejoins when back", () => {
    const p = pool();
    const policy = makePolicy(weightedRoundRobin, "1=5,2=1,3=1");
    const take = (count: number) => Array.from({ length: count }, () => NAMES[policy.select(p, 0)!.n]).join(" ");
    expect(take(7)).toBe("a a b a c a a");
    p[2]!.available = false;
    // Weights 5,1: b once in every six, never two b's together, never a run of more than five a's.
    const whileDown = take(600);
    expect(whileDown.split("b").length - 1).toBe(100);
    expect(whileDown).not.toContain("c");
    expect(whileDown).not.toContain("b b");
    expect(whileDown).not.toMatch(/(a ){6}/);
    p[2]!.available = true;
    const back = take(7000).split(" ");
    expect(back.filter((x) => x === "c").length).toBeGreaterThanOrEqual(999);
    expect(back.filter((x) => x === "c").length).toBeLessThanOrEqual(1001);
  });

  test.each([
    ["1=0", /policy weighted-round-robin: 1 must be an integer from 1 to 1000, not "0"/],
    ["2=1.5", /policy weighted-round-robin: 2 must be an integer from 1 to 1000, not "1.5"/],
    ["default=0", /policy weighted-round-robin: default must be an integer from 1 to 1000, not "0"/],
    ["default=heavy", /default must be an integer from 1 to 1000, not "heavy"/],
  ])("%s is refused with a message naming the option", (spec, message) => {
    const error = refusal(spec);
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).code).toBe("bad_policy");
    expect((error as Error).message).toMatch(message);
  });
});
