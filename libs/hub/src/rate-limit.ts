/**
 * Per-connection rate limiting (docs/protocol.md §4.2 step 3): token buckets for messages and for
 * characters (about bytes), each with a sustained rate and a burst, and an abuse detector that
 * trips when a connection stays far over the message rate. Why characters too: a sender within
 * its message rate could still push large messages faster than honest recipients can read.
 */

/** Rate-limit settings. */
export interface RateLimitOptions {
  /** Sustained messages per second. @default 100 */
  readonly perSecond?: number;
  /** Bucket size: messages that may arrive at once. @default 200 */
  readonly burst?: number;
  /** Sustained characters per second (a message's `length`, about its bytes). @default 262144 */
  readonly charsPerSecond?: number;
  /** Characters that may arrive at once; at least one largest message. @default 524288 */
  readonly charsBurst?: number;
  /** A connection sending this many times the rate… @default 10 */
  readonly abuseFactor?: number;
  /** …for this long is closed with 4008. @default 5000 */
  readonly abuseWindowMs?: number;
}

/** The verdict on one message. */
export type RateVerdict = 'ok' | 'limited' | 'abusive';

/** Rate state of one connection. */
export interface RateLimiter {
  /** Admits one message of `size` characters, or not. */
  take(now: number, size?: number): RateVerdict;
  /** Milliseconds until the next message would be accepted. */
  retryAfterMs(now: number): number;
}

/**
 * A token bucket plus abuse windows. A class so that per-connection state is plain fields
 * (thousands of idle connections each hold one).
 */
class TokenBucketLimiter implements RateLimiter {
  private readonly perSecond: number;
  private readonly burst: number;
  private readonly abuseThreshold: number;
  private readonly abuseSeconds: number;
  private readonly charsPerSecond: number;
  private readonly charsBurst: number;
  private tokens: number;
  private chars: number;
  /** Characters the last refused message lacked (for `retryAfterMs`). */
  private charsShort = 0;
  private last = -1;
  // drops counted in whole-second windows; `strikes` counts consecutive windows over threshold
  private windowStart = 0;
  private drops = 0;
  private strikes = 0;

  constructor(options: RateLimitOptions) {
    this.perSecond = options.perSecond ?? 100;
    this.burst = options.burst ?? 200;
    this.abuseThreshold = this.perSecond * ((options.abuseFactor ?? 10) - 1);
    this.abuseSeconds = Math.max(1, Math.round((options.abuseWindowMs ?? 5000) / 1000));
    this.tokens = this.burst;
    this.charsPerSecond = options.charsPerSecond ?? 256 * 1024;
    this.charsBurst = options.charsBurst ?? 512 * 1024;
    this.chars = this.charsBurst;
  }

  private refill(now: number): void {
    if (this.last >= 0 && now > this.last) {
      const elapsed = now - this.last;
      this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.perSecond) / 1000);
      this.chars = Math.min(this.charsBurst, this.chars + (elapsed * this.charsPerSecond) / 1000);
    }
    this.last = now;
  }

  take(now: number, size = 0): RateVerdict {
    this.refill(now);
    const charge = Math.min(size, this.charsBurst);
    if (this.tokens >= 1 && this.chars >= charge) {
      this.tokens -= 1;
      this.chars -= charge;
      this.charsShort = 0;
      return 'ok';
    }
    this.charsShort = Math.max(0, charge - this.chars);
    const elapsed = now - this.windowStart;
    if (elapsed >= 1000) {
      this.strikes = elapsed < 2000 && this.drops >= this.abuseThreshold ? this.strikes + 1 : 0;
      this.windowStart = now;
      this.drops = 0;
    }
    this.drops += 1;
    return this.drops >= this.abuseThreshold && this.strikes + 1 >= this.abuseSeconds
      ? 'abusive'
      : 'limited';
  }

  retryAfterMs(now: number): number {
    this.refill(now);
    const forMessages = this.tokens >= 1 ? 0 : ((1 - this.tokens) * 1000) / this.perSecond;
    const forChars = (this.charsShort * 1000) / this.charsPerSecond;
    return Math.ceil(Math.max(forMessages, forChars));
  }
}

/** Creates the limiter for one connection. */
export function createRateLimiter(options: RateLimitOptions = {}): RateLimiter {
  return new TokenBucketLimiter(options);
}
