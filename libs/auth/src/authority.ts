/**
 * JWT verification for the hub (docs/protocol.md §4.7): a token becomes a `TokenGrant` (`sub`,
 * `rooms`, `id`, `exp`), and every verdict is cached per token, so a per-message token and a
 * reconnect cost a map lookup. The cache is bounded; refusals are cached briefly, so a flood of
 * one bad token costs one signature check.
 */
import { errors, jwtVerify, type JWTPayload } from 'jose';
import {
  systemClock,
  type Clock,
  type TokenAuthority,
  type TokenGrant,
  type TokenVerdict,
} from '@switchyard/protocol';
import { resolveKeys, type KeySource } from './keys.ts';

/** Options of {@link createJwtAuthority}: one key source, and what every token must say. */
export interface JwtAuthorityOptions extends KeySource {
  /** Required `iss` (one of them). */
  readonly issuer?: string | readonly string[];
  /** Required `aud` (one of them). */
  readonly audience?: string | readonly string[];
  /** Leeway for `exp` and `nbf` against clock skew, in seconds. @default 5 */
  readonly clockToleranceSeconds?: number;
  /** Admits kept (refusals: 1,000 at most, apart). @default 10000 */
  readonly cacheSize?: number;
  /** How long a refusal is remembered, in ms. @default 10000 */
  readonly refusalTtlMs?: number;
  /** Time for `exp`/`nbf` and the cache. @default systemClock */
  readonly clock?: Clock;
}

/** Counters of an authority, for `/metrics`. */
export interface JwtAuthorityStats {
  /** Signature checks that admitted a token. */
  readonly verified: number;
  /** Signature or claim checks that refused one. */
  readonly refused: number;
  /** Verdicts answered from the cache. */
  readonly cacheHits: number;
  readonly cached: number;
}

/** A `TokenAuthority` over JWTs, with its counters. */
export interface JwtAuthority extends TokenAuthority {
  /** The key source, for logs (`secret (HS256/384/512)`, `jwks https://…`). */
  readonly describe: string;
  stats(): JwtAuthorityStats;
}

interface Entry {
  readonly verdict: TokenVerdict;
  /** When the verdict must be decided afresh. */
  readonly until: number;
}

/** Every admit is re-verified at least this often, so key rotation and removal apply. */
const UNEXPIRING_TTL_MS = 10 * 60_000;

/**
 * Creates a JWT authority.
 * @throws AuthConfigError for a configuration that cannot work (no key, two keys, a short
 * secret, a key that is not public, an `http:` JWKS URL off loopback)
 */
export function createJwtAuthority(options: JwtAuthorityOptions): JwtAuthority {
  const keys = resolveKeys(options);
  const clock = options.clock ?? systemClock;
  const toleranceSeconds = options.clockToleranceSeconds ?? 5;
  const cacheSize = options.cacheSize ?? 10_000;
  const refusalTtlMs = options.refusalTtlMs ?? 10_000;
  const cache = new Map<string, Entry>();
  const refusals = new Map<string, Entry>();
  const refusalCacheSize = Math.min(1000, cacheSize);
  const inFlight = new Map<string, Promise<TokenVerdict>>();
  const counters = { verified: 0, refused: 0, cacheHits: 0 };

  function remember(token: string, verdict: TokenVerdict): TokenVerdict {
    const now = clock.now();
    // an admit is decided again within 10 minutes, so a key removed from a JWKS stops admitting
    const until = verdict.ok
      ? Math.min(verdict.grant.expiresAt ?? Infinity, now + UNEXPIRING_TTL_MS)
      : now + refusalTtlMs;
    // refusals have a small cache of their own: a flood of junk tokens cannot evict the admits
    const store = verdict.ok ? cache : refusals;
    const limit = verdict.ok ? cacheSize : refusalCacheSize;
    // a Map iterates in insertion order: the first key is the oldest entry
    if (store.size >= limit) store.delete(store.keys().next().value!);
    store.set(token, { verdict, until });
    return verdict;
  }

  async function check(token: string): Promise<TokenVerdict> {
    try {
      const { payload } = await jwtVerify(token, keys.key as Parameters<typeof jwtVerify>[1], {
        algorithms: keys.algorithms,
        ...(options.issuer !== undefined && { issuer: options.issuer as string | string[] }),
        ...(options.audience !== undefined && { audience: options.audience as string | string[] }),
        clockTolerance: toleranceSeconds,
        currentDate: new Date(clock.now()),
      });
      const verdict = grantOf(payload, toleranceSeconds);
      counters[verdict.ok ? 'verified' : 'refused'] += 1;
      return verdict;
    } catch (error) {
      counters.refused += 1;
      return { ok: false, reason: reasonOf(error) };
    }
  }

  return {
    describe: keys.describe,
    verify(token) {
      const entry = cache.get(token) ?? refusals.get(token);
      if (entry && entry.until > clock.now()) {
        counters.cacheHits += 1;
        return entry.verdict;
      }
      let pending = inFlight.get(token);
      if (!pending) {
        pending = check(token).then((verdict) => {
          inFlight.delete(token);
          return remember(token, verdict);
        });
        inFlight.set(token, pending);
      }
      return pending;
    },
    stats: () => ({ ...counters, cached: cache.size + refusals.size }),
  };
}

/** The grant a verified payload carries, or why its claims are unusable. */
function grantOf(payload: JWTPayload, toleranceSeconds: number): TokenVerdict {
  const { sub, rooms, id, exp } = payload as JWTPayload & { rooms?: unknown; id?: unknown };
  if (typeof sub !== 'string' || sub.length === 0)
    return { ok: false, reason: 'the token has no "sub" (principal)' };
  if (rooms !== undefined && !(Array.isArray(rooms) && rooms.every((r) => typeof r === 'string')))
    return { ok: false, reason: '"rooms" must be a list of room names or prefix patterns' };
  if (id !== undefined && typeof id !== 'string' && typeof id !== 'number')
    return { ok: false, reason: '"id" must be a string' };
  const grant: TokenGrant = {
    principal: sub,
    // the tolerance that admitted a just-expired token must not expire it on arrival
    ...(exp !== undefined && { expiresAt: (exp + toleranceSeconds) * 1000 }),
    ...(rooms !== undefined && { rooms: rooms as string[] }),
    ...(id !== undefined && { id: String(id) }),
  };
  return { ok: true, grant };
}

/** A refusal's reason, worded for the client without echoing the token. */
function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'the token expired';
  if (error instanceof errors.JWTClaimValidationFailed)
    return `claim "${error.claim}" check failed (${error.reason})`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'the token algorithm is not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid)
    return 'not a valid JWT';
  if (error instanceof errors.JOSEError) return error.message;
  return 'the token could not be verified';
}
