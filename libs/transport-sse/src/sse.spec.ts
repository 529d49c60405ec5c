import { describe, expect, it } from 'vitest';
import {
  describeConformance,
  describePipeContract,
  errorCodeOf,
  quietFor,
  rawClient,
  waitUntil,
} from '@switchyard/testing';
import { sseConnector, streamUrl } from './client.ts';
import { startSse, type FixtureOptions, type SseFixture } from './fixture.test-helper.ts';
import { openRawStream, rawSsePeer, type RawEvent, type RawStream } from './raw-sse.test-helper.ts';
import { SETUP_RESUME_WINDOW_MS, sseSetup } from './setup.test-helper.ts';

describeConformance('sse', sseSetup());
describePipeContract({
  name: 'sse',
  setup: sseSetup(),
  // a killed peer's session waits out the resume window before the hub's grace window starts
  detectionMs: SETUP_RESUME_WINDOW_MS,
});

describe('sse transport specifics', () => {
  /** Opens a raw stream and reads its `session` event. */
  async function session(
    f: SseFixture,
    headers: Record<string, string> = {},
  ): Promise<RawStream & { readonly id: string }> {
    const events = await openRawStream(`${f.url}/sse`, headers);
    try {
      const first = await events.next();
      return Object.assign(events, { id: (JSON.parse(first.data) as { session: string }).session });
    } catch (error) {
      await events[Symbol.asyncDispose]();
      throw error;
    }
  }

  const client = (f: SseFixture, announce?: [string, string], token?: string) =>
    rawClient(sseConnector(f.url, token === undefined ? {} : { token }), announce);

  const post = (url: string, body: BodyInit, init: RequestInit = {}) =>
    fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain' }, ...init });

  const start = (options: FixtureOptions = {}) => startSse(options);

  it('drops a silent peer in a quiet room after two unacknowledged heartbeats; the client half keeps its quiet session', async () => {
    await using f = await start({ sse: { heartbeatMs: 100 } });
    await using honest = await client(f, ['H', 'quiet']);
    await using silent = await rawSsePeer(f.url);
    silent.say('/announce|S|{"id":"S","room":"quiet"}');
    await silent.inbox.next((message) => message.startsWith('/roominfo|'));
    await honest.next((message) => message.startsWith('/announce|S|'));
    // the silent peer reads every ping and acknowledges none, like a machine gone without a FIN
    const leave = await honest.next((message) => message.startsWith('/leave|S|'), 3000);
    expect(leave).toBe('/leave|S|{"id":"S","reason":"disconnect"}');
    await quietFor(1000); // ten more heartbeats: the honest client half acknowledges each
    expect(f.hub.roomMembers('quiet')).toEqual(['H']);
    expect(honest.closeInfo).toBeUndefined();
  });

  it('builds the stream URL from a server URL, like the other connectors take it', () => {
    expect(streamUrl('http://127.0.0.1:3000')).toBe('http://127.0.0.1:3000/sse');
    expect(streamUrl('https://example.test/signal/', '/sse', 'a b')).toBe(
      'https://example.test/signal/sse?token=a+b',
    );
    expect(streamUrl('http://h:1', 'events')).toBe('http://h:1/events');
  });

  it('GET /sse opens an unbuffered event stream whose first event names an unguessable session', async () => {
    await using f = await start({ sse: { retryMs: 700, heartbeatMs: 9000, resumeWindowMs: 2500 } });
    await using events = await openRawStream(`${f.url}/sse`);
    expect(events.response.status).toBe(200);
    expect(events.response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(events.response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(events.response.headers.get('x-accel-buffering')).toBe('no');
    const first = await events.next();
    const info = JSON.parse(first.data) as { session: string };
    expect(first.event).toBe('session');
    expect(info).toEqual({ session: info.session, resumeWindowMs: 2500, heartbeatMs: 9000 });
    expect(info.session).toMatch(/^[A-Za-z0-9_-]{24}$/); // 144 random bits
    expect(first.id).toBe(`${info.session}.0`);
    expect(first.retry).toBe(700);
    await using other = await session(f);
    expect(other.id).not.toBe(info.session);
    expect(f.sse.sessions).toBe(2);
    expect(f.sse.describe()).toBe('SSE at GET /sse + POST /sse/<session>');
  });

  it('POST sends one message per body; each message is one event with an increasing id', async () => {
    await using f = await start();
    await using a = await session(f);
    const res = await post(`${f.url}/sse/${a.id}`, '/announce|A|{"id":"A","room":"r"}');
    expect(res.status).toBe(204);
    expect(await a.next()).toMatchObject({
      event: 'message',
      id: `${a.id}.1`,
      data: '/roominfo|{"memberCount":1}',
    });
    await using b = await client(f, ['B', 'r']);
    expect(await a.next()).toMatchObject({
      id: `${a.id}.2`,
      data: '/announce|B|{"id":"B","room":"r"}',
    });
    // line breaks cannot travel in SSE data lines: such a message is a JSON string (event: json)
    const sdp = '/to|A|/sdp|B|v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\n';
    b.say(sdp);
    const json = await a.next();
    expect(json).toMatchObject({ event: 'json', id: `${a.id}.3` });
    expect(JSON.parse(json.data)).toBe(sdp);
    // and the client half decodes it back
    await post(`${f.url}/sse/${a.id}`, '/to|B|/sdp|A|x\r\ny');
    expect(await b.next((m) => m.startsWith('/to|B|/sdp'))).toBe('/to|B|/sdp|A|x\r\ny');
  });

  it('answers bad requests with a clear status and body; the session keeps working', async () => {
    await using f = await start({ hub: { graceMs: 0 } });
    await using a = await session(f);
    const postUrl = `${f.url}/sse/${a.id}`;
    const expectStatus = async (response: Response, status: number, body: RegExp) => {
      expect([response.status, await response.text()]).toEqual([
        status,
        expect.stringMatching(body),
      ]);
    };
    await expectStatus(
      await post(`${f.url}/sse/unknown-session`, '/x'),
      404,
      /unknown or expired session/,
    );
    const put = await fetch(postUrl, { method: 'PUT', body: 'x' });
    expect(put.headers.get('allow')).toBe('POST, DELETE, OPTIONS');
    await expectStatus(put, 405, /PUT not allowed/);
    const wrongGet = await fetch(postUrl);
    await expectStatus(wrongGet, 405, /GET not allowed/);
    const postStream = await post(`${f.url}/sse`, '/x');
    expect(postStream.headers.get('allow')).toBe('GET, OPTIONS');
    await expectStatus(postStream, 405, /POST not allowed: GET opens a stream/);
    await expectStatus(
      await post(postUrl, '{}', { headers: { 'content-type': 'application/json' } }),
      415,
      /text\/plain/,
    );
    await expectStatus(await post(`${postUrl}?ack=-1`, ''), 400, /non-negative integers/);
    // over the cap: 413, and the client learns it in-band too, like from the hub
    await expectStatus(await post(postUrl, `/chat|A|${'x'.repeat(70_000)}`), 413, /65536 bytes/);
    expect(errorCodeOf((await a.next()).data)).toBe('frame-too-large');
    // not UTF-8: 400, and the hub answers /error malformed (the pipe contract's unreadable
    // case); a retried POST with the same seq is answered once
    const invalid = () => post(`${postUrl}?seq=1`, new Uint8Array([0x2f, 0xff, 0xfe]));
    await expectStatus(await invalid(), 400, /not UTF-8/);
    await expectStatus(await invalid(), 400, /not UTF-8/);
    expect((await post(postUrl, '/announce|A|{"id":"A","room":"r"}')).status).toBe(204);
    expect(errorCodeOf((await a.next()).data)).toBe('malformed');
    expect((await a.next()).data).toBe('/roominfo|{"memberCount":1}');
    // DELETE ends the session: the hub sees the close at once, the id is unknown afterwards
    expect((await fetch(postUrl, { method: 'DELETE' })).status).toBe(204);
    await waitUntil(() => f.hub.roomMembers('r').length === 0, 'A to be gone');
    await a.end();
    await expectStatus(await post(postUrl, '/x'), 404, /unknown or expired session/);
    expect(f.sse.sessions).toBe(0);
  });

  it('applies the CORS allow-list, answers preflights and allows credentials only when listed', async () => {
    await using open = await start();
    await using anyOrigin = await openRawStream(`${open.url}/sse`, { origin: 'http://any.test' });
    expect(anyOrigin.response.headers.get('access-control-allow-origin')).toBe('http://any.test');
    expect(anyOrigin.response.headers.get('access-control-allow-credentials')).toBeNull();

    await using f = await start({ sse: { allowedOrigins: ['http://app.test'] } });
    const evil = await fetch(`${f.url}/sse`, { headers: { origin: 'http://evil.test' } });
    expect([evil.status, await evil.text()]).toEqual([403, 'forbidden origin\n']);
    await using app = await session(f, { origin: 'http://app.test' });
    expect(app.response.headers.get('access-control-allow-origin')).toBe('http://app.test');
    expect(app.response.headers.get('access-control-allow-credentials')).toBe('true');
    const preflight = await fetch(`${f.url}/sse/${app.id}`, {
      method: 'OPTIONS',
      headers: {
        origin: 'http://app.test',
        'access-control-request-method': 'DELETE',
        'access-control-request-headers': 'content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('http://app.test');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('POST, DELETE, OPTIONS');
    expect(preflight.headers.get('access-control-allow-headers')).toContain('content-type');
    const streamPreflight = await fetch(`${f.url}/sse`, {
      method: 'OPTIONS',
      headers: { origin: 'http://app.test', 'access-control-request-headers': 'last-event-id' },
    });
    expect(streamPreflight.headers.get('access-control-allow-headers')).toContain('last-event-id');
    const evilPost = await post(`${f.url}/sse/${app.id}`, '/x', {
      headers: { origin: 'http://evil.test' },
    });
    expect(evilPost.status).toBe(403);
  });

  it('hands the token from the query, else from the cookie, to the hub', async () => {
    const tokens: (string | undefined)[] = [];
    await using f = await start({
      services: {
        authenticate: ({ context }) => {
          tokens.push(context.credentials?.token);
          return context.credentials?.token === undefined
            ? { ok: false, code: 'unauthorized' }
            : { ok: true };
        },
      },
    });
    await using query = await client(f, ['Q', 'r'], 'from query');
    await using cookie = await session(f, { cookie: 'other=1; switchyard_token=from%20cookie' });
    await post(`${f.url}/sse/${cookie.id}`, '/announce|C|{"id":"C","room":"r"}');
    expect((await cookie.next()).data).toBe('/roominfo|{"memberCount":2}');
    await using none = await client(f);
    none.say('/announce|N|{"id":"N","room":"r"}');
    expect(errorCodeOf(await none.next())).toBe('unauthorized');
    expect(await none.closed()).toMatchObject({ code: 4001 });
    expect(tokens).toEqual(['from query', 'from cookie', undefined]);
    expect(query.closeInfo).toBeUndefined();
  });

  it('writes a heartbeat comment on every stream and keeps idle sessions open', async () => {
    await using f = await start({ sse: { heartbeatMs: 40 } });
    await using a = await session(f);
    await post(`${f.url}/sse/${a.id}`, '/announce|A|{"id":"A","room":"r"}');
    await using idle = await client(f, ['IDLE', 'r']);
    await waitUntil(() => a.comments.length >= 5, 'five heartbeats');
    expect(new Set(a.comments)).toEqual(new Set(['heartbeat']));
    expect(idle.closeInfo).toBeUndefined();
    expect(f.hub.roomMembers('r')).toEqual(['A', 'IDLE']);
    // heartbeats are comments: the next event id follows straight on from the last one
    idle.say('/hi|IDLE|1');
    expect((await a.next((e) => e.data.startsWith('/hi'))).id).toBe(`${a.id}.3`);
  });

  it('pipe.close() still posts what is queued, then ends the session at once with DELETE', async () => {
    await using f = await start({ hub: { graceMs: 0 }, sse: { resumeWindowMs: 10_000 } });
    await using watcher = await client(f, ['W', 'r']);
    await using leaving = await client(f, ['L', 'r']);
    for (let i = 0; i < 5; i++) leaving.say(`/bye|L|${i}`);
    leaving.pipe.close(1000, 'done');
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(await watcher.next((m) => !m.startsWith('/announce')));
    expect(seen).toEqual([
      '/bye|L|0',
      '/bye|L|1',
      '/bye|L|2',
      '/bye|L|3',
      '/bye|L|4',
      '/leave|L|{"id":"L","reason":"disconnect"}',
    ]);
    // long before the 10 s resume window: the DELETE ended it
    await waitUntil(() => f.sse.sessions === 1, 'the closed session to end', 3000);
  });

  it('a POST whose response is lost is retried with its seq and delivered once', async () => {
    await using f = await start();
    let lose = 0;
    const flaky: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      if (init?.method === 'POST' && lose > 0) {
        lose -= 1;
        await response.text();
        throw new TypeError('fetch failed: the response was lost');
      }
      return response;
    };
    await using receiver = await client(f, ['R', 'r']);
    await using sender = await rawClient(sseConnector(f.url, { fetch: flaky }), ['S', 'r']);
    lose = 2;
    for (let i = 0; i < 3; i++) sender.say(`/n|S|${i}`);
    const numbers = () => receiver.received.filter((m) => m.startsWith('/n|'));
    await waitUntil(() => numbers().length >= 3, 'three');
    await quietFor(100);
    expect(numbers()).toEqual(['/n|S|0', '/n|S|1', '/n|S|2']);
    expect(lose).toBe(0);
  });

  it('close() tells every stream why (close event) and refuses new streams', async () => {
    await using f = await start();
    await using a = await session(f);
    await using b = await client(f, ['B', 'r']);
    await f.sse.close();
    expect(await a.next()).toMatchObject({
      event: 'close',
      data: '{"code":1001,"reason":"server shutting down"}',
    });
    await a.end();
    expect(await b.closed()).toMatchObject({ code: 1001, reason: 'server shutting down' });
    const refused = await fetch(`${f.url}/sse`);
    expect([refused.status, await refused.text()]).toEqual([503, 'server shutting down\n']);
  });

  describe('acknowledgements bound the replay buffer', () => {
    /** Frame bytes of the events a raw stream received, as the server wrote them. */
    const frameBytes = (events: RawEvent[]) =>
      events.reduce((sum, e) => sum + Buffer.byteLength(`id: ${e.id}\ndata: ${e.data}\n\n`), 0);

    it('bufferedAmount counts unacknowledged bytes; an ack-only POST releases them', async () => {
      await using f = await start();
      await using a = await session(f);
      const serverPipe = await f.pipes.next();
      const postUrl = `${f.url}/sse/${a.id}`;
      await post(postUrl, '/announce|A|{"id":"A","room":"r"}');
      const roominfo = await a.next();
      await using b = await client(f, ['B', 'r']);
      for (let i = 0; i < 5; i++) b.say(`/to|A|/n|B|${i}`);
      const got = [await a.next()]; // B's announce
      for (let i = 0; i < 5; i++) got.push(await a.next());
      expect(serverPipe.bufferedAmount).toBe(frameBytes([roominfo, ...got]));
      expect((await post(`${postUrl}?ack=2`, '')).status).toBe(204);
      expect(serverPipe.bufferedAmount).toBe(frameBytes(got.slice(1)));
      await post(`${postUrl}?ack=${got.at(-1)!.id!.split('.')[1]}`, '');
      expect(serverPipe.bufferedAmount).toBe(0);
    });

    it('a client that never acknowledges is closed (4008) with a clear reason; the client half acknowledges and stays', async () => {
      await using f = await start({ sse: { replayLimit: 40 } });
      await using silent = await session(f);
      await post(`${f.url}/sse/${silent.id}`, '/announce|S|{"id":"S","room":"r"}');
      await using acking = await client(f, ['ACK', 'r']);
      await using sender = await client(f, ['X', 'r']);
      for (let i = 0; i < 150; i++) sender.say(`/n|X|${i}`);
      await waitUntil(
        () => acking.received.filter((m) => m.startsWith('/n|')).length === 150,
        'all 150',
      );
      expect(acking.closeInfo).toBeUndefined();
      const close = await silent.next((e) => e.event === 'close');
      expect(JSON.parse(close.data)).toEqual({
        code: 4008,
        reason: expect.stringMatching(
          /^replay buffer full: 40 messages \(\d+ bytes\) unacknowledged$/,
        ),
      });
      // it got every message up to the limit, none silently skipped
      const numbers = silent.events.filter((e) => e.data.startsWith('/n|')).map((e) => e.data);
      expect(numbers).toEqual(Array.from({ length: numbers.length }, (_, i) => `/n|X|${i}`));
      // a hard close for the hub: S leaves after the grace window
      await waitUntil(() => f.hub.roomMembers('r').join() === 'ACK,X', 'S to leave the room');
    });

    it('a client that acknowledges without reading is still closed as a slow consumer (4008)', async () => {
      await using f = await start({ hub: { rateLimit: false, highWaterMark: 256 * 1024 } });
      await using liar = await session(f);
      const postUrl = `${f.url}/sse/${liar.id}`;
      await post(postUrl, '/announce|L|{"id":"L","room":"r"}');
      await liar.next((e) => e.data.startsWith('/roominfo'));
      liar.pause();
      await using sender = await client(f, ['X', 'r']);
      const chunk = 'x'.repeat(16 * 1024);
      // acknowledging everything, always: ?ack= proves nothing about what was read
      for (let i = 0; i < 2000 && f.hub.stats().closed.slowConsumer === 0; i++) {
        sender.say(`/to|L|/bulk|X|${chunk}`);
        if (i % 10 !== 9) continue;
        // let the batch reach L's session, then acknowledge it all
        await waitUntil(() => f.hub.stats().messagesOut >= i, 'the batch delivered', 2000).catch(
          () => undefined,
        );
        await post(`${postUrl}?ack=999999999`, '');
      }
      await waitUntil(() => f.hub.stats().closed.slowConsumer === 1, 'L closed as slow');
      expect(sender.closeInfo).toBeUndefined();
    });
  });
});
