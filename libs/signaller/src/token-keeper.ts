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

/** Keeps the current token. */
export interface TokenKeeper {
  /** The token announces carry; undefined without a source. */
  readonly current: string | undefined;
  /** True when the source is a function, so a refresh may bring a new token. */
  readonly renewable: boolean;
  /** Resolves the source again and plans the next renewal. */
  refresh(): Promise<void>;
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
    renewal.start(left - Math.min(RENEW_MARGIN_MS, left / 5), onDue);
  }

  return {
    get current() {
      return current;
    },
    renewable,
    async refresh() {
      if (!renewable) return;
      current = await resolveToken(source);
      plan(current!);
    },
    stop: () => renewal.cancel(),
  };
}
