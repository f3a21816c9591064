import type { PolicyFactory } from "../policy.ts";
import { nextInTurn } from "./turns.ts";

/** Each call the next live upstream in order of n after the previous pick. */
export const roundRobin: PolicyFactory = {
  name: "round-robin",
  summary: "each request to the next live upstream in turn: even spread when requests cost about the same",
  options: {},
  create: () => {
    let last: number | undefined;
    return {
      select(pool) {
        const picked = nextInTurn(pool, last, (u) => u.available);
        if (picked !== undefined) last = picked.n;
        return picked;
      },
    };
  },
};
