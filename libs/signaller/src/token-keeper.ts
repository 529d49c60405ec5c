/**
 * The signaller's credential (docs/protocol.md §4.7): resolved before every (re)connect and
 * re-announce, sent as the announce attribute `token`, and, when it is a function returning JWTs
 * with `exp`, renewed and re-announced before it expires, so the hub never closes the
 * connection for an expired token.
 */
import { resolveToken, tokenExpiry, type Clock, type TokenSource } from '@switchyard/protocol';
import { createOneShotTimer } from './one-shot-timer.ts';

/** Renew this long before `exp`: a minute, or a fifth of a short token's remaining life. */
const RENEW_MARGIN_MS = 60_000;
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Keeps the current token. */
export interface TokenKeeper {
  /** The token announces carry; undefined without a source. */
  readonly current: string | undefined;
  /** True when the source is a function, so a refresh may bring a new token. */
  readonly renewable: boolean;
  /** Resolves the source again and plans the next renewal; true when the token changed. */
  refresh(): Promise<boolean>;
  stop(): void;
}

/** `onDue` runs when the token should be renewed (the signaller re-announces). */
export function createTokenKeeper(
  source: TokenSource | undefined,
  clock: Clock,
  onDue: () => void,
): TokenKeeper {
  const renewal = createOneShotTimer(clock);
  let current = typeof source === 'string' ? source : undefined;
  const renewable = typeof source === 'function';

  function plan(token: string): void {
    const expiresAt = tokenExpiry(token);
    if (!renewable || expiresAt === undefined) return;
    const left = expiresAt - clock.now();
    if (left <= 0) return; // already expired: the next connect fetches another
    const due = left - Math.min(RENEW_MARGIN_MS, left / 5);
    // timers fire at once past 2^31-1 ms (24.8 days): wait that long, then plan again
    if (due > MAX_TIMER_MS) renewal.start(MAX_TIMER_MS, () => plan(token));
    else renewal.start(due, onDue);
  }

  return {
    get current() {
      return current;
    },
    renewable,
    async refresh() {
      if (!renewable) return false;
      const previous = current;
      current = await resolveToken(source);
      plan(current!);
      return current !== previous;
    },
    stop: () => renewal.cancel(),
  };
}
