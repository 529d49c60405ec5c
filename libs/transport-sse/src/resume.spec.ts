/**
 * Dropped streams: inside the resume window the client comes back with `Last-Event-ID` and gets
 * exactly what it missed, and the room notices nothing; past it the session ends and the room
 * gets `/leave` after the hub's grace window.
 */
import { describe, expect, it } from 'vitest';
import { createSignaller } from '@switchyard/signaller';
import {
  cleanupStack,
  errorCodeOf,
  nextEvent,
  quietFor,
  rawClient,
  waitUntil,
  type RawClient,
} from '@switchyard/testing';
import { sseConnector, type FetchFunction, type SseConnectorOptions } from './client.ts';
import { startSse, type SseFixture } from './fixture.test-helper.ts';
import { openRawStream } from './raw-sse.test-helper.ts';

/**
 * A `fetch` whose event streams the test can cut from the client side: the body fails as on a
 * lost network and the real connection is dropped (the server sees it close).
 */
function cuttableFetch(): { fetch: FetchFunction; cut(): void } {
  const cuts: (() => void)[] = [];
  const wrapped: FetchFunction = async (input, init) => {
    const response = await fetch(input, init);
    if (new Headers(init?.headers).get('accept') !== 'text/event-stream' || !response.body)
      return response;
    const reader = response.body.getReader();
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    const body = new ReadableStream<Uint8Array>({
      start: (c) => void (controller = c),
      async pull(c) {
        try {
          const { done, value } = await reader.read();
          if (done) c.close();
          else c.enqueue(value);
        } catch (error) {
          c.error(error);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    cuts.push(() => {
      controller.error(new TypeError('terminated: network connection lost'));
      void reader.cancel().catch(() => undefined);
    });
    return new Response(body, { status: response.status, headers: response.headers });
  };
  return { fetch: wrapped, cut: () => cuts.at(-1)!() };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('sse resume', () => {
  const client = (f: SseFixture, announce?: [string, string], options: SseConnectorOptions = {}) =>
    rawClient(sseConnector(f.url, options), announce);

  /** A raw session announced as `id` into room `r`; resolves after its `/roominfo`. */
  async function rawMember(f: SseFixture, id: string) {
    const events = await openRawStream(`${f.url}/sse`);
    const session = (JSON.parse((await events.next()).data) as { session: string }).session;
    const postUrl = `${f.url}/sse/${session}`;
    await fetch(postUrl, { method: 'POST', body: `/announce|${id}|{"id":"${id}","room":"r"}` });
    const joined = await events.next((e) => e.data.startsWith('/roominfo'));
    return {
      events,
      session,
      postUrl,
      joined,
      [Symbol.asyncDispose]: () => events[Symbol.asyncDispose](),
    };
  }

  /** Whatever happens to the stream, nothing is lost or repeated and nobody sees a departure. */
  async function conversationSurvives(cut: 'server' | 'client', onlyResumeAcks = false) {
    await using f = await startSse({
      hub: { graceMs: 300 },
      sse: { retryMs: 50, resumeWindowMs: 3000 },
    });
    const departures: string[] = [];
    f.hub.on('connection:closed', (c) => departures.push(`closed ${c.id}`));
    f.hub.on('peer:left', (p) => departures.push(`left ${p.id}`));
    const cuttable = cuttableFetch();
    await using receiver = await client(f, ['R', 'r'], {
      fetch: cuttable.fetch,
      ...(onlyResumeAcks && { ackEvery: 1000 }),
    });
    await using sender = await client(f, ['S', 'r']);
    await using watcher = await client(f, ['W', 'r']);
    const numbers = (c: RawClient, prefix: string) =>
      c.received.filter((m) => m.startsWith(prefix)).map((m) => Number(m.split('|')[4]));

    for (let i = 0; i < 150; i++) sender.say(`/to|R|/n|S|${i}`);
    await waitUntil(() => numbers(receiver, '/to|R|/n|').length >= 30, 'the first messages');
    if (cut === 'server') f.streams[0]!.socket.destroy();
    else cuttable.cut();
    const reply = () => {
      for (let i = 0; i < 20; i++) receiver.say(`/to|S|/m|R|${i}`);
    };
    // the receiver's POSTs work while its stream is away (and carry acks, so hold them back
    // when only the resume may acknowledge)
    if (!onlyResumeAcks) reply();
    await waitUntil(() => f.streams.length === 4, 'the receiver to resume');
    if (onlyResumeAcks) reply();
    expect(f.streams[3]!.headers['last-event-id']).toMatch(/^[\w-]{24}\.\d+$/);
    for (let i = 150; i < 200; i++) sender.say(`/to|R|/n|S|${i}`);
    await waitUntil(() => numbers(receiver, '/to|R|/n|').length >= 200, 'all 200 messages');
    await waitUntil(() => numbers(sender, '/to|S|/m|').length >= 20, 'all 20 replies');
    await quietFor(500); // longer than the grace window: a departure would show now
    expect(numbers(receiver, '/to|R|/n|')).toEqual(range(0, 200));
    expect(numbers(sender, '/to|S|/m|')).toEqual(range(0, 20));
    expect(receiver.closeInfo).toBeUndefined();
    expect(watcher.received.filter((m) => m.startsWith('/leave'))).toEqual([]);
    expect(departures).toEqual([]);
    expect(f.hub.roomMembers('r')).toEqual(['R', 'S', 'W']);
  }

  // with only Last-Event-ID acknowledging, the replay buffer holds events the client already has
  // at the cut, so a resume that replayed from the wrong place would show duplicates
  it('a stream cut by the server mid-conversation loses and repeats nothing', () =>
    conversationSurvives('server', true));

  it('a stream cut on the client side mid-conversation loses and repeats nothing', () =>
    conversationSurvives('client'));

  it('a resume with Last-Event-ID replays exactly the missed events, without a new session event', async () => {
    await using f = await startSse({ hub: { graceMs: 100 } });
    await using a = await rawMember(f, 'A');
    await using peer = await client(f, ['P', 'r']);
    const announce = await a.events.next();
    expect(announce).toMatchObject({
      id: `${a.session}.2`,
      data: '/announce|P|{"id":"P","room":"r"}',
    });
    a.events.cut();
    for (let i = 0; i < 3; i++) peer.say(`/to|A|/x|P|${i}`);
    await waitUntil(() => f.hub.stats().messagesIn >= 5, 'the three messages to reach the hub');
    await using resumed = await openRawStream(`${f.url}/sse`, { 'last-event-id': announce.id! });
    expect(resumed.response.status).toBe(200);
    const replayed = [await resumed.next(), await resumed.next(), await resumed.next()];
    expect(replayed.map((e) => [e.event, e.id, e.data])).toEqual(
      range(0, 3).map((i) => ['message', `${a.session}.${i + 3}`, `/to|A|/x|P|${i}`]),
    );
    await quietFor(300);
    expect(resumed.events).toHaveLength(3);
    expect(peer.received.filter((m) => m.startsWith('/leave'))).toEqual([]);
  });

  it('a new stream for a session replaces a half-open one', async () => {
    await using f = await startSse();
    await using a = await rawMember(f, 'A');
    await using peer = await client(f, ['P', 'r']);
    const last = await a.events.next();
    // the old stream is still open as far as the server knows
    await using fresh = await openRawStream(`${f.url}/sse`, { 'last-event-id': last.id! });
    await a.events.end();
    peer.say('/to|A|/x|P|after');
    expect((await fresh.next()).data).toBe('/to|A|/x|P|after');
    expect(f.hub.stats().connections).toBe(2);
  });

  it('past the resume window the session ends; the room gets /leave after the grace window', async () => {
    await using f = await startSse({ hub: { graceMs: 200 }, sse: { resumeWindowMs: 300 } });
    const codes: (number | undefined)[] = [];
    f.hub.on('connection:closed', (c) => codes.push(c.code));
    await using gone = await rawMember(f, 'G');
    await using watcher = await client(f, ['W', 'r']);
    const last = await gone.events.next();
    const cutAt = Date.now();
    gone.events.cut();
    expect(await watcher.next((m) => m.startsWith('/leave'), 5000)).toBe(
      '/leave|G|{"id":"G","reason":"disconnect"}',
    );
    // resumeWindowMs + graceMs: the pipe contract's hard-disconnect case only bounds graceMs
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(450);
    expect(codes).toEqual([1006]);
    const late = await fetch(`${f.url}/sse`, { headers: { 'last-event-id': last.id! } });
    expect([late.status, await late.text()]).toEqual([
      404,
      'unknown or expired session: reconnect without Last-Event-ID\n',
    ]);
  });

  it('a session closed while its stream is away tells the client why when it comes back', async () => {
    await using f = await startSse();
    await using a = await rawMember(f, 'A');
    await using peer = await client(f, ['P', 'r']);
    const last = await a.events.next();
    a.events.cut();
    await waitUntil(() => f.streams[0]!.socket.closed, 'the server to notice the cut');
    peer.say('/to|A|/x|P|1');
    peer.say('/to|A|/x|P|2');
    await waitUntil(() => f.hub.stats().messagesIn >= 4, 'both messages');
    expect(f.hub.disconnect('A', 4009, 'id taken over')).toBe(true);
    await using back = await openRawStream(`${f.url}/sse`, { 'last-event-id': last.id! });
    await back.end();
    expect(back.events.map((e) => [e.event, e.data])).toEqual([
      ['message', '/to|A|/x|P|1'],
      ['message', '/to|A|/x|P|2'],
      ['close', '{"code":4009,"reason":"id taken over"}'],
    ]);
    expect(f.sse.sessions).toBe(1);
  });

  it('liveness is "a stream is attached": an attached holder keeps its id; a session whose stream is away loses it (4009) and learns why on resume (docs/protocol.md §4.3)', async () => {
    await using f = await startSse({ hub: { livenessTimeoutMs: 300 } });
    await using holder = await rawMember(f, 'H');
    await using thief = await client(f);
    thief.say('/announce|H|{"id":"H","room":"r"}');
    expect(errorCodeOf(await thief.next())).toBe('id-taken');
    await using away = await rawMember(f, 'A');
    const awayStream = f.streams.at(-1)!;
    away.events.cut();
    await waitUntil(() => awayStream.socket.closed, 'the server to notice the cut');
    await using claimer = await client(f);
    claimer.say('/announce|A|{"id":"A","room":"r"}');
    expect(await claimer.next((m) => m.startsWith('/roominfo|'))).toBe(
      '/roominfo|{"memberCount":2}',
    );
    await using back = await openRawStream(`${f.url}/sse`, {
      'last-event-id': away.joined.id!,
    });
    await back.end();
    const [error, close] = back.events.filter((e) => !e.data.startsWith('/announce'));
    expect(errorCodeOf(error!.data)).toBe('id-taken');
    expect(JSON.parse(close!.data)).toMatchObject({ code: 4009 });
    expect(holder.events.ended).toBe(false);
    expect(f.hub.roomMembers('r').sort()).toEqual(['A', 'H']);
  });

  it('a client half refused on resume (the window passed) closes its pipe; the signaller starts over', async () => {
    // the server asks EventSource to wait longer than it keeps the session
    await using f = await startSse({
      hub: { graceMs: 0 },
      sse: { retryMs: 400, resumeWindowMs: 100 },
    });
    const cuttable = cuttableFetch();
    const peer = createSignaller(sseConnector(f.url, { fetch: cuttable.fetch }), {
      reconnectDelay: () => 20,
    });
    await using stack = cleanupStack();
    stack.defer(() => peer.leave());
    const first = nextEvent(peer, 'roominfo');
    peer.announce({ room: 'r' });
    await first;
    await using watcher = await client(f, ['W', 'r']);
    const disconnected = nextEvent(peer, 'disconnected');
    const again = nextEvent(peer, 'roominfo');
    cuttable.cut();
    await disconnected;
    expect((await again)[0].memberCount).toBe(2);
    expect(f.streams.map((s) => s.headers['last-event-id'] !== undefined)).toEqual([
      false,
      false,
      true, // the refused resume
      false, // the signaller's new session
    ]);
    expect(await watcher.next((m) => m.startsWith('/leave'))).toBe(
      `/leave|${String(peer.id)}|{"id":"${String(peer.id)}","reason":"disconnect"}`,
    );
  });

  it('a client half whose stream does not come back in resumeTimeoutMs closes its pipe (1006)', async () => {
    await using f = await startSse({ sse: { retryMs: 5000 } });
    const cuttable = cuttableFetch();
    await using lost = await client(f, ['L', 'r'], { fetch: cuttable.fetch, resumeTimeoutMs: 200 });
    const cutAt = Date.now();
    cuttable.cut();
    expect(await lost.closed()).toMatchObject({
      code: 1006,
      reason: 'the stream did not come back',
    });
    expect(Date.now() - cutAt).toBeGreaterThanOrEqual(150);
    expect(f.streams).toHaveLength(1);
  });

  it('a goodbye queued behind a POST that never comes back (a page going away cuts it) leaves at once, with keepalive, and a repeat of the held message is dropped by its seq', async () => {
    await using f = await startSse();
    await using watcher = await client(f, ['W', 'gone']);
    const posts: Array<{ body: string; keepalive: boolean }> = [];
    const held: FetchFunction = (input, init) => {
      if (init?.method !== 'POST') return fetch(input, init);
      const body = String(init.body);
      const first = !posts.some((p) => p.body === body);
      posts.push({ body, keepalive: init.keepalive === true });
      const answer = fetch(input, init);
      // the first /last reaches the server, but its answer never comes back, as for a request
      // a closing page cut: the client half still counts it as in flight
      return body.startsWith('/to|W|/last') && first ? new Promise<never>(() => undefined) : answer;
    };
    const leaving = await client(f, ['L', 'gone'], { fetch: held, ackEvery: 1000 });
    await watcher.next((m) => m.startsWith('/announce|L'));
    leaving.say('/to|W|/last|L|{}');
    await watcher.next((m) => m.startsWith('/to|W|/last'));
    leaving.say('/leave|L|{"id":"L"}');
    leaving.pipe.close();
    expect(await watcher.next((m) => m.startsWith('/leave'), 2000)).toBe(
      '/leave|L|{"id":"L","reason":"leave"}',
    );
    expect(posts.filter((p) => p.body.startsWith('/leave'))).toEqual([
      { body: '/leave|L|{"id":"L"}', keepalive: true },
    ]);
    // the held message went again with the goodbye, under its own seq: delivered once
    await quietFor(300);
    expect(watcher.received.filter((m) => m.startsWith('/to|W|/last'))).toEqual([
      '/to|W|/last|L|{}',
    ]);
  });
});
