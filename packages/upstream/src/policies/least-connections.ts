import type { PolicyFactory } from "../policy.ts";
import { lowestInTurn } from "./turns.ts";

/**
 * The live upstream with the fewest requests in flight from this hop. Ties go round robin: at low
 * concurrency every upstream is at 0, and "first of the tied" would send everything to upstream 1.
 */
export const leastConnections: PolicyFactory = {
  name: "least-connections",
  summary: "the live upstream with the fewest requests in flight from this hop, ties in turn: for requests of very unequal cost",
  options: {},
  create: () => lowestInTurn((u) => u.inflight),
};
