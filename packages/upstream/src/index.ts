export { type ForwardHooks, forward, innerBudget } from "./forward.ts";
export { type Policy, clientIdPolicy, randomPolicy } from "./policy.ts";
export { type Pool, type PoolOptions, type Upstream, createPool } from "./pool.ts";
export { type Tier, type TierOptions, createTier } from "./tier.ts";
