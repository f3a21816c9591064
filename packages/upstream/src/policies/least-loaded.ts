import type { Candidate, PolicyFactory } from "../policy.ts";
import { lowestInTurn } from "./turns.ts";

/**
 * Seed 001's rule: the upstream whose health check reported the least work, plus what this hop has
 * sent it and not had answered. Summing (rather than max) makes every request we send count at once,
 * as the seed bumps its count on each pick until the next check: with max, an upstream that last
 * reported 0 would take every request until our own in-flight count passed the others' reports.
 * The sum counts our requests already in flight at the report twice; that errs toward spreading.
 * Without a report yet, only our own in-flight count is known.
 */
export function loadScore(u: Candidate): number {
  return (u.load?.inflight ?? 0) + u.inflight;
}

export const leastLoaded: PolicyFactory = {
  name: "least-loaded",
  summary: "the live upstream whose last health check reported the least work (plus this hop's unanswered requests), ties in turn: when other clients load the upstreams too",
  options: {},
  create: () => lowestInTurn(loadScore),
};
