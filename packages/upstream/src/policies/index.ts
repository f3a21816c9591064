import { UpstreamError } from "../errors.ts";
import { type Policy, type PolicyDeps, type PolicyFactory, SYSTEM_DEPS } from "../policy.ts";
import { clientId } from "./client-id.ts";
import { consistentHash } from "./consistent-hash.ts";
import { ipHash } from "./ip-hash.ts";
import { leastConnections } from "./least-connections.ts";
import { leastLoaded } from "./least-loaded.ts";
import { maglev } from "./maglev.ts";
import { PolicyParams } from "./params.ts";
import { powerOfTwo } from "./power-of-two.ts";
import { random } from "./random.ts";
import { roundRobin } from "./round-robin.ts";
import { weightedRoundRobin } from "./weighted-round-robin.ts";

/** Every selectable policy, in the order --help lists them. */
export const POLICIES: readonly PolicyFactory[] = [
  clientId,
  consistentHash,
  maglev,
  ipHash,
  random,
  roundRobin,
  weightedRoundRobin,
  leastConnections,
  powerOfTwo,
  leastLoaded,
];

/** A policy from its spec (`name` or `name:key=value,…`); throws UpstreamError("bad_policy") naming what is wrong. */
export function createPolicy(spec: string, deps: PolicyDeps = SYSTEM_DEPS): Policy {
  const params = PolicyParams.parse(spec);
  const factory = POLICIES.find((p) => p.name === params.policy);
  if (factory === undefined) {
    throw new UpstreamError("bad_policy", `unknown policy "${params.policy}" (choose one of: ${POLICIES.map((p) => p.name).join(", ")})`);
  }
  const policy = factory.create(params, deps);
  const unknown = params.unread();
  if (unknown.length > 0) {
    const known = Object.keys(factory.options);
    throw new UpstreamError("bad_policy", `policy ${factory.name} has no option ${unknown.join(", ")} (${known.length > 0 ? `its options: ${known.join(", ")}` : "it takes no options"})`);
  }
  return policy;
}
