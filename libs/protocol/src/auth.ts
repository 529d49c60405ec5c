/**
 * Token authentication (docs/protocol.md §4.7) as data: what a verified credential grants, and
 * where a client's token comes from. An authority (`@switchyard/auth` for JWT) turns a token into
 * a grant; the hub enforces it. Pure: no verification happens here.
 */
import { LIMITS } from './limits.ts';

/** What a verified token allows. */
export interface TokenGrant {
  /** Who the token names (a JWT's `sub`); one principal per connection. */
  readonly principal: string;
  /** When the token stops being valid, in milliseconds since the epoch. */
  readonly expiresAt?: number;
  /** Rooms it may announce into: exact names, or prefixes ending in `*`. Absent: any room. */
  readonly rooms?: readonly string[];
  /** The only signaller id it may announce as. Absent: any id. */
  readonly id?: string;
}

/** An authority's verdict on one token. */
export type TokenVerdict =
  | { readonly ok: true; readonly grant: TokenGrant }
  | { readonly ok: false; readonly reason: string };

/** Verifies tokens; a hub given one requires every connection to authenticate. */
export interface TokenAuthority {
  /**
   * Verifies `token`. Returns synchronously for a token it has verified before, so that a
   * per-message token costs a lookup on the hot path, not a signature check.
   */
  verify(token: string): TokenVerdict | Promise<TokenVerdict>;
}

/**
 * Asks `authority` about `token`, refusing an oversized token unread and turning a throw or a
 * rejection into a refusal, so every caller (the hub, a server half, a broker) gets a verdict.
 */
export function verifyToken(
  authority: TokenAuthority,
  token: string,
): TokenVerdict | Promise<TokenVerdict> {
  if (token.length > LIMITS.maxTokenLength)
    return { ok: false, reason: `tokens are limited to ${LIMITS.maxTokenLength} characters` };
  const refusal = (error: unknown): TokenVerdict => ({ ok: false, reason: String(error) });
  try {
    const verdict = authority.verify(token);
    return verdict instanceof Promise ? verdict.catch(refusal) : verdict;
  } catch (error) {
    return refusal(error);
  }
}

/** Whether a `rooms` entry admits `room`: equal, or a prefix pattern ending in `*`. */
export function roomMatches(pattern: string, room: string): boolean {
  return pattern.endsWith('*') ? room.startsWith(pattern.slice(0, -1)) : pattern === room;
}

/** Why `grant` may not announce as `id` into `room`, or undefined when it may. */
export function grantRefuses(grant: TokenGrant, id: string, room: string): string | undefined {
  if (grant.id !== undefined && grant.id !== id)
    return `this token may only announce as ${JSON.stringify(grant.id)}`;
  if (grant.rooms !== undefined && !grant.rooms.some((pattern) => roomMatches(pattern, room)))
    return `this token does not allow room ${JSON.stringify(room)}`;
  return undefined;
}

/**
 * Where a client's token comes from: a string, or a function called on every (re)connect and
 * re-announce, so an app can fetch a fresh token before it is needed.
 */
export type TokenSource = string | (() => string | Promise<string>);

/** The current token of `source`, or undefined without one. */
export async function resolveToken(source: TokenSource | undefined): Promise<string | undefined> {
  if (source === undefined) return undefined;
  const token = typeof source === 'string' ? source : await source();
  if (typeof token !== 'string' || token.length === 0)
    throw new TypeError('the token provider must return a non-empty string');
  return token;
}

/**
 * How a browser sends a token without putting it in a URL: WebSocket subprotocols
 * `['switchyard', 'bearer.<token>']`; the server selects `switchyard` and never echoes the token.
 */
export const BEARER_SUBPROTOCOL_PREFIX = 'bearer.';
/** The subprotocol a Switchyard WebSocket server selects when a client offers it. */
export const SWITCHYARD_SUBPROTOCOL = 'switchyard';

/** The token in a `Sec-WebSocket-Protocol` list (`switchyard, bearer.<token>`), if any. */
export function bearerSubprotocolToken(header: string | undefined): string | undefined {
  if (header === undefined || !header.includes(BEARER_SUBPROTOCOL_PREFIX)) return undefined;
  for (const entry of header.split(',')) {
    const protocol = entry.trim();
    if (protocol.startsWith(BEARER_SUBPROTOCOL_PREFIX))
      return protocol.slice(BEARER_SUBPROTOCOL_PREFIX.length);
  }
  return undefined;
}

/**
 * The `exp` of a JWT in milliseconds since the epoch, read without verifying (a client plans its
 * refresh with it; only servers verify). Undefined for anything that is not a JWT with `exp`.
 */
export function tokenExpiry(token: string): number | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const base64 = payload.replace(/-/g, '+').replace(/_/g, '/');
    const claims: unknown = JSON.parse(atob(base64));
    const exp = (claims as { exp?: unknown } | null)?.exp;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}
