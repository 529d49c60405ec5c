import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';
import { describe, expect, it } from 'vitest';
import { listenHttp, ManualClock } from '@switchyard/test-kit';
import type { TokenVerdict } from '@switchyard/protocol';
import { AuthConfigError, createJwtAuthority } from './index.ts';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';
const NOW = Date.UTC(2026, 11, 2, 12, 0, 0);
const seconds = (ms: number) => Math.floor(ms / 1000);

function hs256(claims: JWTPayload, secret = SECRET, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(secret));
}

async function verdict(result: TokenVerdict | Promise<TokenVerdict>) {
  return await result;
}

describe('createJwtAuthority', () => {
  it('turns sub, rooms, id and exp into a grant; exp keeps the clock tolerance', async () => {
    const clock = new ManualClock(NOW);
    const tokens = createJwtAuthority({ secret: SECRET, clock, clockToleranceSeconds: 5 });
    const exp = seconds(NOW) + 60;
    const token = await hs256({ sub: 'alice', rooms: ['lobby', 'team-*'], id: 'a1', exp });
    expect(await verdict(tokens.verify(token))).toEqual({
      ok: true,
      grant: {
        principal: 'alice',
        rooms: ['lobby', 'team-*'],
        id: 'a1',
        expiresAt: (exp + 5) * 1000,
      },
    });
  });

  it('answers a token it has seen synchronously, and one signature check serves concurrent callers', async () => {
    const tokens = createJwtAuthority({ secret: SECRET });
    const token = await hs256({ sub: 'alice' });
    const [a, b] = [tokens.verify(token), tokens.verify(token)];
    expect(a).toBe(b);
    await a;
    const again = tokens.verify(token);
    expect(again).not.toBeInstanceOf(Promise);
    expect(again).toMatchObject({ ok: true });
    expect(tokens.stats()).toMatchObject({ verified: 1, cacheHits: 1, cached: 1 });
  });

  it('caches refusals briefly and keeps the cache bounded', async () => {
    const clock = new ManualClock(NOW);
    const tokens = createJwtAuthority({ secret: SECRET, clock, cacheSize: 2, refusalTtlMs: 1000 });
    const bad = await hs256({ sub: 'mallory' }, 'another-secret-of-at-least-32-bytes!');
    expect(await verdict(tokens.verify(bad))).toEqual({ ok: false, reason: 'bad signature' });
    expect(tokens.verify(bad)).toMatchObject({ ok: false });
    clock.advance(1001);
    expect(tokens.verify(bad)).toBeInstanceOf(Promise);
    const admitted = await Promise.all(['a', 'b', 'c'].map((sub) => hs256({ sub })));
    for (const token of admitted) await tokens.verify(token);
    // two admits kept (the oldest went), and the refusal apart: junk cannot evict admits
    expect(tokens.stats().cached).toBe(3);
    expect(tokens.verify(admitted[0]!)).toBeInstanceOf(Promise);
    expect(tokens.verify(admitted[2]!)).not.toBeInstanceOf(Promise);
  });

  it('refuses alg none, a missing sub, bad claims, expired tokens, another issuer or audience', async () => {
    const clock = new ManualClock(NOW);
    const tokens = createJwtAuthority({
      secret: SECRET,
      issuer: 'https://app.example',
      audience: 'switchyard',
      clock,
      clockToleranceSeconds: 0,
    });
    const good = { iss: 'https://app.example', aud: 'switchyard' };
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(
      JSON.stringify({ ...good, sub: 'alice' }),
    ).toString('base64url')}.`;
    const cases: [string, string][] = [
      [unsigned, 'algorithm'],
      [await hs256({ ...good }), '"sub"'],
      [await hs256({ ...good, sub: 'a', rooms: 'lobby' }), '"rooms"'],
      [await hs256({ ...good, sub: 'a', exp: seconds(NOW) - 1 }), 'expired'],
      [await hs256({ ...good, sub: 'a', iss: 'https://evil.example' }), '"iss"'],
      [await hs256({ ...good, sub: 'a', aud: 'other' }), '"aud"'],
      ['not.a.jwt', 'JWT'],
      ['', 'JWT'],
    ];
    for (const [token, reason] of cases) {
      const result = await verdict(tokens.verify(token));
      expect(result.ok, token).toBe(false);
      expect(result.ok ? '' : result.reason).toContain(reason);
    }
    expect(await verdict(tokens.verify(await hs256({ ...good, sub: 'alice' })))).toMatchObject({
      ok: true,
    });
  });

  it('tolerates clock skew within clockToleranceSeconds, both for nbf and exp', async () => {
    const clock = new ManualClock(NOW);
    const early = await hs256({ sub: 'a', nbf: seconds(NOW) + 3 });
    const late = await hs256({ sub: 'a', exp: seconds(NOW) - 3 });
    const lenient = createJwtAuthority({ secret: SECRET, clock, clockToleranceSeconds: 5 });
    const strict = createJwtAuthority({ secret: SECRET, clock, clockToleranceSeconds: 0 });
    expect(await verdict(lenient.verify(early))).toMatchObject({ ok: true });
    expect(await verdict(lenient.verify(late))).toMatchObject({ ok: true });
    expect(await verdict(strict.verify(early))).toMatchObject({ ok: false });
    expect(await verdict(strict.verify(late))).toMatchObject({ ok: false });
  });

  it('verifies RS256, ES256 and EdDSA with a public key, and refuses an HMAC token made with that key', async () => {
    for (const alg of ['RS256', 'ES256', 'EdDSA'] as const) {
      const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
      const pem = await exportSPKI(publicKey);
      const tokens = createJwtAuthority({ publicKey: pem });
      const token = await new SignJWT({ sub: 'alice' })
        .setProtectedHeader({ alg })
        .sign(privateKey);
      expect(await verdict(tokens.verify(token)), alg).toMatchObject({ ok: true });
      // algorithm confusion: the public key's PEM text used as an HMAC secret
      const confused = await hs256({ sub: 'mallory' }, pem);
      expect(await verdict(tokens.verify(confused)), alg).toEqual({
        ok: false,
        reason: 'the token algorithm is not allowed',
      });
    }
  });

  it('fetches a JWKS over HTTP and fetches it again for an unknown kid (key rotation)', async () => {
    const first = await generateKeyPair('ES256', { extractable: true });
    const second = await generateKeyPair('ES256', { extractable: true });
    const jwk = async (key: CryptoKey, kid: string): Promise<JWK> => ({
      ...(await exportJWK(key)),
      kid,
      alg: 'ES256',
    });
    let keys = [await jwk(first.publicKey, 'k1')];
    let fetches = 0;
    await using http = await listenHttp((_request, response) => {
      fetches += 1;
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys }));
    });
    const tokens = createJwtAuthority({ jwks: http.url('/jwks.json'), jwksCooldownMs: 0 });
    const sign = (key: CryptoKey, kid: string) =>
      new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid }).sign(key);
    expect(await verdict(tokens.verify(await sign(first.privateKey, 'k1')))).toMatchObject({
      ok: true,
    });
    expect(fetches).toBe(1);
    keys = [await jwk(first.publicKey, 'k1'), await jwk(second.publicKey, 'k2')];
    expect(await verdict(tokens.verify(await sign(second.privateKey, 'k2')))).toMatchObject({
      ok: true,
    });
    expect(fetches).toBe(2);
    const unknown = await verdict(tokens.verify(await sign(second.privateKey, 'k3')));
    expect(unknown).toEqual({ ok: false, reason: 'no key matches the token' });
  });

  it('refuses a JWKS larger than jwksMaxBytes', async () => {
    await using http = await listenHttp((_request, response) => {
      response.setHeader('content-type', 'application/json');
      response.end(JSON.stringify({ keys: [], padding: 'x'.repeat(4096) }));
    });
    const { privateKey } = await generateKeyPair('ES256');
    const tokens = createJwtAuthority({ jwks: http.url('/jwks.json'), jwksMaxBytes: 1024 });
    const token = await new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k' })
      .sign(privateKey);
    expect(await verdict(tokens.verify(token))).toMatchObject({ ok: false });
  });

  it('reads a JWKS file again when a token names a kid it does not have', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'switchyard-jwks-'));
    const file = join(dir, 'jwks.json');
    const one = await generateKeyPair('EdDSA', { extractable: true });
    const two = await generateKeyPair('EdDSA', { extractable: true });
    const write = async (...pairs: [CryptoKey, string][]) =>
      writeFile(
        file,
        JSON.stringify({
          keys: await Promise.all(
            pairs.map(async ([key, kid]) => ({ ...(await exportJWK(key)), kid })),
          ),
        }),
      );
    await write([one.publicKey, 'one']);
    const tokens = createJwtAuthority({ jwks: file, jwksCooldownMs: 0 });
    await write([one.publicKey, 'one'], [two.publicKey, 'two']);
    const token = await new SignJWT({ sub: 'a' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'two' })
      .sign(two.privateKey);
    expect(await verdict(tokens.verify(token))).toMatchObject({ ok: true });
  });

  it('refuses configurations that cannot be safe', () => {
    expect(() => createJwtAuthority({})).toThrow(AuthConfigError);
    expect(() => createJwtAuthority({ secret: 'short' })).toThrow(/at least 32 bytes/);
    expect(() => createJwtAuthority({ secret: SECRET, jwks: 'x.json' })).toThrow(/exactly one/);
    expect(() => createJwtAuthority({ jwks: 'http://keys.example/jwks.json' })).toThrow(/https/);
    expect(() => createJwtAuthority({ publicKey: 'not a pem' })).toThrow(/PEM/);
    expect(() => createJwtAuthority({ jwks: '/nonexistent/jwks.json' })).toThrow(/cannot read/);
  });
});
