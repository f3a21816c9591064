export { AttemptCounts, type CountedUpstream, upstreamStats } from "./hop-stats.ts";
export { UpstreamError, type UpstreamErrorCode } from "./errors.ts";
export { type ForwardHooks, MAX_ATTEMPTS, forward, innerBudget, isIdempotent } from "./forward.ts";
export { DEFAULT_HEALTH, type HealthOptions } from "./health.ts";
export type { Upstream } from "./member.ts";
export { type Candidate, type Policy, type PolicyDeps, type PolicyFactory, SYSTEM_DEPS } from "./policy.ts";
export { POLICIES, createPolicy } from "./policies/index.ts";
export { type Pool, type PoolOptions, createPool } from "./pool.ts";
export { type Tier, type TierOptions, createTier } from "./tier.ts";
export {
  type HeaderPair,
  type HttpExchangeRequest,
  type HttpExchangeResponse,
  type HttpReply,
  INLINE_BODY,
  isIdempotentMethod,
  jsonAnswer,
  pathOf,
  randomRequestKey,
  validateHttpRequest,
  validateHttpResponse,
} from "./http-exchange.ts";
export { type ExternalForwardHooks, forwardExternal } from "./external/forward.ts";
export { ExternalMember } from "./external/member.ts";
export { type ExternalPool, type ExternalPoolOptions, createExternalPool } from "./external/pool.ts";
export { LruCache, type LruBounds } from "./lru.ts";
