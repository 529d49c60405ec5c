/**
 * Per-connection rate limiting (PROTOCOL §4.2 step 3): a token bucket for the sustained rate and
 * burst, and an abuse detector that trips when a connection stays far over the rate.
 */

/** Rate-limit settings. */
export interface RateLimitOptions {
  /** Sustained messages per second. @default 100 */
  readonly perSecond?: number;
  /** Bucket size: messages that may arrive at once. @default 200 */
  readonly burst?: number;
  /** A connection sending this many times the rate… @default 10 */
  readonly abuseFactor?: number;
  /** …for this long is closed with 4008. @default 5000 */
  readonly abuseWindowMs?: number;
}

/** The verdict on one message. */
export type RateVerdict = 'ok' | 'limited' | 'abusive';

/** Rate state of one connection. */
export interface RateLimiter {
  take(now: number): RateVerdict;
  /** Milliseconds until the next message would be accepted. */
  retryAfterMs(now: number): number;
}

/** Creates the limiter for one connection. */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  const perSecond = options.perSecond ?? 100;
  const burst = options.burst ?? 200;
  const abuseThreshold = perSecond * ((options.abuseFactor ?? 10) - 1);
  const abuseSeconds = Math.max(1, Math.round((options.abuseWindowMs ?? 5000) / 1000));
  let tokens = burst;
  let last: number | undefined;
  // Drops counted in whole-second windows; `strikes` counts consecutive windows over threshold.
  let windowStart = 0;
  let drops = 0;
  let strikes = 0;

  const refill = (now: number) => {
    if (last !== undefined && now > last)
      tokens = Math.min(burst, tokens + ((now - last) * perSecond) / 1000);
    last = now;
  };

  return {
    take(now) {
      refill(now);
      if (tokens >= 1) {
        tokens -= 1;
        return 'ok';
      }
      const elapsed = now - windowStart;
      if (elapsed >= 1000) {
        strikes = elapsed < 2000 && drops >= abuseThreshold ? strikes + 1 : 0;
        windowStart = now;
        drops = 0;
      }
      drops += 1;
      return drops >= abuseThreshold && strikes + 1 >= abuseSeconds ? 'abusive' : 'limited';
    },
    retryAfterMs(now) {
      refill(now);
      return tokens >= 1 ? 0 : Math.ceil(((1 - tokens) * 1000) / perSecond);
    },
  };
}
