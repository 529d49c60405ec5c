/**
 * Token authentication (docs/protocol.md §4.7), when the hub is given a `TokenAuthority`: every
 * connection authenticates at connect time or in its announce, one principal per connection; a
 * token that expires closes the connection at its `exp` unless a re-announce brought a fresh one;
 * per-message tokens in json sender metadata must name the connection's principal.
 */
import {
  CloseCode,
  grantRefuses,
  verifyToken,
  type Clock,
  type TokenAuthority,
  type TokenGrant,
  type TokenVerdict,
} from '@switchyard/protocol';
import type { Announce } from './announce.ts';
import type { Connection } from './model.ts';
import type { Outbound } from './outbound.ts';
import type { HubCounters } from './stats.ts';

/** Longest single timer the runtime keeps (about 24.8 days); later expiries are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** New per-message tokens a connection may have checked at once, and then per second. */
const CHECK_BURST = 5;
const CHECKS_PER_SECOND = 1;

/** A decision that may have to wait for a signature check. */
type Decision = boolean | Promise<boolean>;

/** The hub's side of token authentication. */
export class Credentials {
  constructor(
    private readonly authority: TokenAuthority,
    private readonly clock: Clock,
    private readonly outbound: Outbound,
    private readonly counters: HubCounters,
  ) {}

  /**
   * A new connection with a connect-time token (query, auth payload, cookie, MQTT password):
   * verified before anything it sends is read. Undefined when there is nothing to verify.
   */
  connect(connection: Connection): Promise<void> | undefined {
    const token = connection.context.credentials?.token;
    if (token === undefined) return undefined;
    const decision = this.decide(token, (verdict) => {
      if (!this.valid(connection, verdict)) return false;
      this.adopt(connection, verdict.grant);
      return true;
    });
    return decision instanceof Promise ? decision.then(() => undefined) : undefined;
  }

  /**
   * An announce: its token (or the connection's) must be valid, name the connection's principal,
   * and allow the id and room. False once refused (the `/error` is sent; `unauthorized` closes).
   */
  announce(connection: Connection, announce: Announce): Decision {
    const token = announce.token;
    if (token === undefined) {
      const grant = connection.grant;
      if (!grant)
        return this.unauthorized(
          connection,
          'a token is required: connect with one or announce with "token"',
        );
      return this.permit(connection, grant, announce);
    }
    return this.decide(token, (verdict) => {
      if (!this.valid(connection, verdict)) return false;
      const grant = verdict.grant;
      if (connection.grant && connection.grant.principal !== grant.principal)
        return this.unauthorized(
          connection,
          'the token names another principal than this connection',
        );
      if (!this.permit(connection, grant, announce)) return false;
      this.adopt(connection, grant);
      return true;
    });
  }

  /**
   * A per-message token (a `token` key in a json sender field): valid and the connection's
   * principal, else `/error unauthorized` and the message is dropped (the connection stays).
   */
  message(connection: Connection, token: unknown): Decision {
    if (typeof token !== 'string')
      return this.refuseMessage(connection, 'the sender token must be a string');
    const known = connection.senderToken;
    if (known?.token === token) {
      if (!this.expired(known.grant)) return true;
      return this.refuseMessage(connection, 'the sender token expired');
    }
    // a new token costs a signature check: a few per connection, then one a second, so a flood of
    // made-up tokens costs what a flood of bad frames does
    if (!this.spendCheck(connection))
      return this.refuseMessage(
        connection,
        'too many new sender tokens: reuse one',
        'rate-limited',
      );
    return this.decide(token, (verdict) => {
      if (!verdict.ok)
        return this.refuseMessage(connection, `invalid sender token: ${verdict.reason}`);
      if (this.expired(verdict.grant))
        return this.refuseMessage(connection, 'the sender token expired');
      if (verdict.grant.principal !== connection.grant?.principal)
        return this.refuseMessage(
          connection,
          'the sender token names another principal than this connection',
        );
      connection.senderToken = { token, grant: verdict.grant };
      return true;
    });
  }

  /** Takes one signature check from the connection's budget; false when it is spent. */
  private spendCheck(connection: Connection): boolean {
    const now = this.clock.now();
    const budget = (connection.tokenChecks ??= { left: CHECK_BURST, at: now });
    budget.left = Math.min(
      CHECK_BURST,
      budget.left + ((now - budget.at) / 1000) * CHECKS_PER_SECOND,
    );
    budget.at = now;
    if (budget.left < 1) return false;
    budget.left -= 1;
    return true;
  }

  /** The connection closed: its expiry timer goes with it. */
  forget(connection: Connection): void {
    if (connection.expiryTimer === undefined) return;
    this.clock.clearTimeout(connection.expiryTimer);
    connection.expiryTimer = undefined;
  }

  /** Verifies and then applies `then`, synchronously when the authority answers at once. */
  private decide(token: string, then: (verdict: TokenVerdict) => boolean): Decision {
    const verdict = verifyToken(this.authority, token);
    return verdict instanceof Promise ? verdict.then(then) : then(verdict);
  }

  private valid(
    connection: Connection,
    verdict: TokenVerdict,
  ): verdict is Extract<TokenVerdict, { ok: true }> {
    if (connection.state === 'closed') return false;
    if (!verdict.ok) return this.unauthorized(connection, `invalid token: ${verdict.reason}`);
    if (this.expired(verdict.grant)) return this.unauthorized(connection, 'the token expired');
    return true;
  }

  private permit(connection: Connection, grant: TokenGrant, announce: Announce): boolean {
    if (this.expired(grant)) return this.unauthorized(connection, 'the token expired');
    const refused = grantRefuses(grant, announce.id, announce.room);
    if (refused === undefined) return true;
    this.outbound.error(connection, 'forbidden', refused);
    return false;
  }

  /** The connection speaks for `grant` from now on, until its expiry. */
  private adopt(connection: Connection, grant: TokenGrant): void {
    connection.grant = grant;
    connection.principal = grant.principal;
    this.forget(connection);
    if (grant.expiresAt !== undefined) this.armExpiry(connection, grant.expiresAt);
  }

  private armExpiry(connection: Connection, expiresAt: number): void {
    const delay = Math.max(0, expiresAt - this.clock.now());
    connection.expiryTimer = this.clock.setTimeout(
      () => {
        connection.expiryTimer = undefined;
        if (delay > MAX_TIMER_MS) return this.armExpiry(connection, expiresAt);
        this.counters.tokenExpired += 1;
        this.unauthorized(connection, 'the token expired');
      },
      Math.min(delay, MAX_TIMER_MS),
    );
  }

  private expired(grant: TokenGrant): boolean {
    return grant.expiresAt !== undefined && grant.expiresAt <= this.clock.now();
  }

  private unauthorized(connection: Connection, message: string): false {
    if (connection.state === 'closed') return false;
    this.outbound.error(connection, 'unauthorized', message);
    connection.pipe.close(CloseCode.unauthorized, 'unauthorized');
    return false;
  }

  private refuseMessage(
    connection: Connection,
    message: string,
    code: 'unauthorized' | 'rate-limited' = 'unauthorized',
  ): false {
    this.outbound.error(connection, code, message);
    return false;
  }
}
