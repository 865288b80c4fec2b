export {
  memoryRateLimiter,
  type RateLimiter,
  type RateLimitVerdict,
  type RedisRateLimiterOptions,
  redisRateLimiter,
} from './rate-limiter.js';
export {
  defaultRateLimitConfig,
  defaultRateLimits,
  type RateLimitConfig,
  type RateLimitSettings,
  type Rule,
  type RuleName,
  raisedRateLimits,
  rateLimitConfigOf,
  readRateLimitConfig,
  ruleFor,
  ruleNames,
} from './rules.js';
