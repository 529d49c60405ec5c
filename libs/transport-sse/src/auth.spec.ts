import { describe, expect, it } from 'vitest';
import { createJwtAuthority } from '@switchyard/auth';
import { createHub } from '@switchyard/hub';
import {
  describeAuthentication,
  mintToken,
  serveHalves,
  TEST_JWT_SECRET,
  waitUntil,
} from '@switchyard/testing';
import { sseConnector } from './client.ts';
import { sseServer } from './server.ts';

describeAuthentication({
  name: 'sse',
  async setup(accept, tokens) {
    const served = await serveHalves(accept, [sseServer({ tokens, resumeWindowMs: 300 })]);
    return {
      connector: (token) => sseConnector(served.url(), token ? { token } : {}),
      [Symbol.asyncDispose]: () => served.close(),
    };
  },
});

describe('sse tokens at connect time', () => {
  it('answers an invalid stream token with 401 and opens no session; a cookie token works', async () => {
    const tokens = createJwtAuthority({ secret: TEST_JWT_SECRET });
    const hub = createHub({}, { tokens });
    const half = sseServer({ tokens });
    await using served = await serveHalves(hub.accept, [half]);
    const refused = await fetch(served.url('/sse?token=forged'));
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect(await refused.text()).toContain('unauthorized');
    expect(half.sessions).toBe(0);
    const cookie = `switchyard_token=${await mintToken({ sub: 'alice' })}`;
    const controller = new AbortController();
    const stream = await fetch(served.url('/sse'), {
      headers: { cookie },
      signal: controller.signal,
    });
    expect(stream.status).toBe(200);
    await waitUntil(() => half.sessions === 1 || undefined, 'a session');
    controller.abort();
    hub.close();
  });
});
