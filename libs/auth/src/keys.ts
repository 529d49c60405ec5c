/**
 * Which keys verify tokens, and with which algorithms: exactly one source (a shared secret, a
 * public key, or a JWKS), each with an allow-list fixed by the key itself, so `alg: none` and
 * algorithm confusion (an HMAC token "signed" with a public key) are refused whatever the token
 * header says.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';

/** A key source's verdict on a configuration that cannot work. */
export class AuthConfigError extends Error {
  override readonly name = 'AuthConfigError';
}

/** Where verification keys come from: exactly one of these. */
export interface KeySource {
  /** A shared secret for HS256/384/512, at least 32 bytes. */
  readonly secret?: string | Uint8Array;
  /** A PEM public key (SPKI) for RS*, PS*, ES* or EdDSA tokens. */
  readonly publicKey?: string | KeyObject;
  /**
   * A JWK set: an `https:` URL (`http:` only on a loopback host), a file path, or the set
   * itself. A URL is cached and fetched again when a token names an unknown `kid` (at most
   * once per `jwksCooldownMs`).
   */
  readonly jwks?: string | URL | JSONWebKeySet;
  /** Least time between two JWKS refreshes. @default 30000 */
  readonly jwksCooldownMs?: number;
  /** Largest JWKS document accepted, in bytes. @default 1 MiB */
  readonly jwksMaxBytes?: number;
  /** Time one JWKS fetch may take. @default 5000 */
  readonly jwksTimeoutMs?: number;
}

/** A resolved key source: what `jwtVerify` is given. */
export interface Keys {
  readonly key: Uint8Array | KeyObject | JWTVerifyGetKey;
  readonly algorithms: string[];
  /** For logs and `/healthz`: `secret`, `public key (ec)`, `jwks https://…`. */
  readonly describe: string;
}

const HMAC = ['HS256', 'HS384', 'HS512'];
const RSA = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
const EC_BY_CURVE: Readonly<Record<string, string>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};
/** Every asymmetric algorithm a JWKS key may use; jose also matches each key's own `alg`. */
const ASYMMETRIC = [...RSA, 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Resolves `source` into a key and its algorithms. @throws AuthConfigError */
export function resolveKeys(source: KeySource): Keys {
  const given = [source.secret, source.publicKey, source.jwks].filter((k) => k !== undefined);
  if (given.length !== 1)
    throw new AuthConfigError('give exactly one of a JWT secret, a public key or a JWKS');
  if (source.secret !== undefined) return secretKeys(source.secret);
  if (source.publicKey !== undefined) return publicKeys(source.publicKey);
  return jwksKeys(source.jwks!, source);
}

function secretKeys(secret: string | Uint8Array): Keys {
  const key = typeof secret === 'string' ? new TextEncoder().encode(secret) : secret;
  // RFC 7518 §3.2: an HMAC key must be at least as long as the hash
  if (key.byteLength < 32)
    throw new AuthConfigError('a JWT secret must be at least 32 bytes (256 bits)');
  return { key, algorithms: HMAC, describe: 'secret (HS256/384/512)' };
}

function publicKeys(pem: string | KeyObject): Keys {
  let key: KeyObject;
  try {
    key = typeof pem === 'string' ? createPublicKey(pem) : pem;
  } catch (error) {
    throw new AuthConfigError(`not a PEM public key: ${(error as Error).message}`);
  }
  if (key.type !== 'public') throw new AuthConfigError('the JWT key must be a public key');
  const type = key.asymmetricKeyType;
  const algorithms =
    type === 'rsa'
      ? RSA
      : type === 'rsa-pss'
        ? RSA.filter((alg) => alg.startsWith('PS'))
        : type === 'ec'
          ? [EC_BY_CURVE[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? '']
          : type === 'ed25519'
            ? ['EdDSA', 'Ed25519']
            : [''];
  if (algorithms[0] === '')
    throw new AuthConfigError(`unsupported public key type ${type ?? 'unknown'}`);
  return { key, algorithms, describe: `public key (${type}: ${algorithms.join('/')})` };
}

function jwksKeys(jwks: string | URL | JSONWebKeySet, source: KeySource): Keys {
  const cooldownMs = source.jwksCooldownMs ?? 30_000;
  if (typeof jwks === 'object' && !(jwks instanceof URL)) {
    return { key: localSet(jwks), algorithms: ASYMMETRIC, describe: 'jwks (inline)' };
  }
  const text = String(jwks);
  if (/^https?:\/\//i.test(text)) {
    const url = new URL(text);
    if (url.protocol === 'http:' && !LOOPBACK.has(url.hostname))
      throw new AuthConfigError(`a JWKS URL must use https (http only on a loopback host): ${url}`);
    const maxBytes = source.jwksMaxBytes ?? 1024 * 1024;
    const key = createRemoteJWKSet(url, {
      cooldownDuration: cooldownMs,
      timeoutDuration: source.jwksTimeoutMs ?? 5000,
      [customFetch]: (input, init) => boundedFetch(input, init, maxBytes),
    });
    return { key, algorithms: ASYMMETRIC, describe: `jwks ${url.origin}${url.pathname}` };
  }
  return { key: fileSet(text, cooldownMs), algorithms: ASYMMETRIC, describe: `jwks file ${text}` };
}

function localSet(jwks: JSONWebKeySet): JWTVerifyGetKey {
  try {
    return createLocalJWKSet(jwks);
  } catch (error) {
    throw new AuthConfigError(`not a JWK set: ${(error as Error).message}`);
  }
}

/** A JWKS file, read again (at most once per cooldown) when a token names an unknown key. */
function fileSet(path: string, cooldownMs: number): JWTVerifyGetKey {
  const read = (): JWTVerifyGetKey => {
    try {
      return localSet(JSON.parse(readFileSync(path, 'utf8')) as JSONWebKeySet);
    } catch (error) {
      if (error instanceof AuthConfigError) throw error;
      throw new AuthConfigError(`cannot read the JWKS file ${path}: ${(error as Error).message}`);
    }
  };
  let current = read();
  let readAt = Date.now();
  return async (header, token) => {
    try {
      return await current(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - readAt < cooldownMs)
        throw error;
      readAt = Date.now();
      try {
        current = read();
      } catch {
        throw error; // a file being rewritten: keep the keys we had
      }
      return current(header, token);
    }
  };
}

/** `fetch`, refusing a body larger than `maxBytes` however it is sent. */
async function boundedFetch(input: string, init: RequestInit, maxBytes: number): Promise<Response> {
  const response = await fetch(input, init);
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > maxBytes || !response.body) {
    await response.body?.cancel();
    if (length > maxBytes) throw new Error(`JWKS larger than ${maxBytes} bytes`);
    return response;
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > maxBytes) throw new Error(`JWKS larger than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return new Response(Buffer.concat(chunks), {
    status: response.status,
    headers: response.headers,
  });
}
