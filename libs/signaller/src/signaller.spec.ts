import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { SignallingError } from '@switchyard/protocol';
import { flushMicrotasks, ManualClock } from '@switchyard/test-kit';
import { OfflineQueueFullError, ReconnectStoppedError } from './errors.ts';
import { connected, fakeServer, leaveAll, track } from './fake-server.test-helper.ts';
import { createSignaller } from './signaller.ts';
import type { SignallerError } from './types.ts';

const packageVersion = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

afterEach(leaveAll);

describe('outbound frames (docs/conformance.md §5.2, items 1–11)', () => {
  it('encodes fields exactly like rtc-signal', async () => {
    const { server, signaller } = await connected();
    signaller.send('/obj', { a: 1, b: [1, 2] }, 'str', 3.5, true);
    signaller.send('/value', 0);
    signaller.send('/message', '');
    signaller.send('/connected', false);
    signaller.send('/hi');
    signaller.send('/nl', { text: 'line1\nline2' });
    signaller.to('P9').send('/sdp', { type: 'offer', sdp: 'v=0\r\n' });
    signaller.to('P9').send('/ping');
    expect(server.take()).toEqual([
      '/obj|ME|{"a":1,"b":[1,2]}|str|3.5|true',
      '/value|ME|0',
      '/message|ME|',
      '/connected|ME|false',
      '/hi|ME',
      '/nl|ME|{"text":"line1\\nline2"}',
      '/to|P9|/sdp|ME|{"type":"offer","sdp":"v=0\\r\\n"}',
      '/to|P9|/ping|ME',
    ]);
    expect(() => signaller.send('/pipe', 'c|d')).toThrow(/cannot contain "\|"/);
  });

  it('writes the json dialect by default', async () => {
    const server = fakeServer();
    const signaller = track(
      createSignaller(server.connector, { id: 'ME' }, { clock: new ManualClock() }),
    );
    await flushMicrotasks();
    signaller.send('/chat', { a: '|' });
    expect(server.take()).toEqual(['/chat|{"id":"ME"}|{"a":"\\u007c"}']);
  });

  it('debounces announce, merges attributes, keeps the id, emits local:announce', async () => {
    const { server, signaller, clock } = await connected();
    const local: unknown[] = [];
    signaller.on('local:announce', (data) => local.push(data));
    signaller.announce({ room: 'r', name: 'a' });
    signaller.announce({ id: 'HIJACK', age: 2 });
    clock.advance(10);
    const frames = server.take();
    expect(frames).toHaveLength(1);
    const fields = frames[0]!.split('|');
    expect(fields.slice(0, 2)).toEqual(['/announce', 'ME']);
    expect(JSON.parse(fields[2]!)).toEqual({
      browser: 'node',
      browserVersion: process.versions.node,
      agent: `switchyard@${packageVersion}`, // environment.ts VERSION follows package.json
      id: 'ME',
      room: 'r',
      name: 'a',
      age: 2,
    });
    expect(local).toHaveLength(1);
  });

  it('leave() sends the exact /leave frame, closes and never reconnects', async () => {
    const { server, signaller, clock } = await connected();
    const disconnected = new Promise((resolve) =>
      signaller.once('disconnected', () => resolve(true)),
    );
    signaller.leave();
    expect(server.take()).toEqual(['/leave|ME|{"id":"ME"}']);
    expect(await disconnected).toBe(true);
    await clock.advanceAsync(30);
    expect(clock.pending).toBe(0);
    expect(server.connections).toBe(1);
    signaller.send('/after', 1);
    expect(server.take()).toEqual([]);
  });
});

describe('inbound processing (docs/conformance.md items 14–27)', () => {
  it('registers a new peer, auto-replies once, updates on re-announce (rtc-signal announce tests)', async () => {
    const { server, signaller, clock } = await connected();
    signaller.announce({ room: 'foo' });
    clock.advance(10);
    server.take();
    const events: string[] = [];
    signaller.on('peer:filter', (id) => events.push(`filter ${id}`));
    signaller.on('peer:connected', (id) => events.push(`connected ${id}`));
    signaller.on('peer:announce', (data, record) =>
      events.push(`announce ${String(data.id)} roleIdx=${record.roleIdx}`),
    );
    signaller.on('peer:update', (data, sender) =>
      events.push(`update ${String(data.id)} from ${sender}`),
    );
    server.push('/announce|1|{"id":1,"room":"foo"}');
    const reply = server.take();
    expect(reply).toHaveLength(1);
    expect(reply[0]!.split('|').slice(0, 4)).toEqual(['/to', '1', '/announce', 'ME']);
    server.push('/announce|1|{"id":1,"room":"foo","x":2}');
    expect(server.take()).toEqual([]);
    server.push('/to|ME|/announce|Z|{"id":"Z","room":"foo"}');
    expect(server.take()).toEqual([]);
    expect(events).toEqual([
      'filter 1',
      'connected 1',
      'announce 1 roleIdx=0',
      'filter 1',
      'connected 1',
      'update 1 from 1',
      'filter Z',
      'connected Z',
      'announce Z roleIdx=1',
    ]);
    expect(signaller.peers.get('1')!.data).toMatchObject({ x: 2 });
    expect(signaller.isMaster('Z')).toBe(true);
    expect(signaller.isMaster('1')).toBe(false);
    expect(signaller.isMaster('unknown')).toBeUndefined();
  });

  it('drops /to for others by whole-field comparison, primus frames and its own frames', async () => {
    const { server, signaller } = await connected();
    const raw: string[] = [];
    signaller.on('rawdata', (message) => raw.push(message));
    const got: unknown[] = [];
    signaller.on('message:foo', (...args) => got.push(args));
    server.push('/to|MEX|/foo|bar');
    server.push('/to|M|/foo|bar');
    server.push('primus::ping::1');
    server.push('/foo|ME|self');
    server.push('/to|ME|/foo|bar');
    expect(raw).toEqual(['/foo|ME|self', '/to|ME|/foo|bar']);
    // an unknown sender is an object with only its id (rtc-signaller passed the bare string)
    expect(got).toEqual([[{ id: 'bar' }, '/to|ME|/foo|bar']]);
    expect(got[0]).toHaveLength(2);
  });

  it('emits message:<cmd> with decoded payload, source and raw; data for non-commands', async () => {
    const { server, signaller } = await connected();
    server.push('/announce|P|{"id":"P","room":"r"}');
    server.take();
    const messages: unknown[][] = [];
    signaller.on('message:hello', (...args) => messages.push(args));
    const data: unknown[][] = [];
    signaller.on('data', (...args) => data.push(args));
    server.push('/hello|P|{"a":1}|"5"|7');
    server.push('/hello|{"id":"Q"}|x');
    server.push('hello|P|4|5|6');
    server.push('/to|ME|hello|P|4');
    expect(messages[0]!.slice(0, 3)).toEqual([{ a: 1 }, '5', 7]);
    expect((messages[0]![3] as { id: string }).id).toBe('P');
    expect(messages[1]!.slice(0, 2)).toEqual(['x', { id: 'Q' }]);
    expect(data.map((args) => [args[0], args[1], args[3]])).toEqual([
      [['hello', 4, 5, 6], 'P', false],
      [['hello', 4], 'P', true],
    ]);
  });

  it('surfaces /roominfo, typed /error and /leave', async () => {
    const { server, signaller } = await connected();
    const seen: unknown[] = [];
    signaller.on('roominfo', (info) => seen.push(['roominfo', info]));
    signaller.on('message:roominfo', (...args) => seen.push(['message:roominfo', ...args]));
    signaller.on('error', (error) =>
      seen.push(['error', error instanceof SignallingError && error.code]),
    );
    signaller.on('message:leave', (data) => seen.push(['message:leave', data]));
    signaller.on('peer:leave', (id) => seen.push(['peer:leave', id]));
    server.push('/roominfo|{"memberCount":2}');
    server.push('/error|{"code":"rate-limited","message":"slow down","retryAfterMs":10}');
    server.push('/announce|P|{"id":"P","room":"r"}');
    server.push('/leave|P|{"id":"P"}');
    expect(seen).toEqual([
      ['roominfo', { memberCount: 2 }],
      ['message:roominfo', { memberCount: 2 }, '/roominfo|{"memberCount":2}'],
      ['error', 'rate-limited'],
      ['message:leave', { id: 'P' }],
      ['peer:leave', 'P'],
    ]);
    expect(signaller.peers.has('P')).toBe(false);
  });
});

describe('connection lifecycle (docs/conformance.md items 29–32, Q16, Q17)', () => {
  it('reconnects with the injected delay, re-announces first, then flushes the offline queue', async () => {
    const delays: number[] = [];
    const { server, signaller, clock } = await connected({
      reconnectDelay: (attempt) => (delays.push(attempt), 5),
    });
    signaller.announce({ room: 'r' });
    clock.advance(10);
    server.take();
    server.drop();
    signaller.send('/queued', 1);
    signaller.to('X').send('/queued', 2);
    await clock.advanceAsync(5);
    expect(server.connections).toBe(2);
    expect(delays).toEqual([0]);
    const frames = server.take();
    expect(frames[0]).toMatch(/^\/announce\|ME\|/);
    expect(frames.slice(1)).toEqual(['/queued|ME|1', '/to|X|/queued|ME|2']);
  });

  it('reconnects at once, without backoff, when the server closes with 1012 (a draining node)', async () => {
    const delays: number[] = [];
    const { server, signaller, clock } = await connected({
      reconnectDelay: (attempt) => (delays.push(attempt), 5000),
    });
    signaller.announce({ room: 'r' });
    clock.advance(10);
    server.take();
    server.drop(1012);
    await clock.advanceAsync(0);
    expect(server.connections).toBe(2);
    expect(delays).toEqual([]);
    await clock.advanceAsync(10);
    expect(server.take()[0]).toMatch(/^\/announce\|ME\|/);
  });

  it('backs off across failed attempts and reports each failure', async () => {
    const delays: number[] = [];
    const { server, signaller, clock } = await connected({
      reconnectDelay: (attempt) => (delays.push(attempt), 5),
    });
    const errors: string[] = [];
    signaller.on('error', (error) => errors.push(error.message));
    server.refuse = true;
    server.drop();
    await clock.advanceAsync(40);
    server.refuse = false;
    await clock.advanceAsync(30);
    expect(signaller.readyState).toBe('connected');
    expect(delays.slice(0, 3)).toEqual([0, 1, 2]);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors[0]).toBe('connection refused');
  });

  it('does not reconnect after 4001, 4003 or 4009, and bounds the offline queue', async () => {
    const { server, signaller, clock } = await connected({ queueLimit: 2 });
    const errors: SignallerError[] = [];
    signaller.on('error', (error) => errors.push(error));
    server.drop(4009);
    await clock.advanceAsync(30);
    expect(server.connections).toBe(1);
    expect(errors[0]).toBeInstanceOf(ReconnectStoppedError);
    expect(errors[0]).toMatchObject({ code: 'reconnect-stopped', closeCode: 4009 });
    signaller.send('/a', 1);
    signaller.send('/a', 2);
    signaller.send('/a', 3);
    expect(errors[1]).toBeInstanceOf(OfflineQueueFullError);
    expect(errors[1]).toMatchObject({ code: 'offline-queue-full', limit: 2 });
  });

  it('does not reconnect after an id-taken or unauthorized /error on a transport without close codes', async () => {
    const { server, signaller, clock } = await connected();
    const errors: SignallerError[] = [];
    signaller.on('error', (error) => errors.push(error));
    server.push('/error|{"code":"id-taken","message":"taken over"}');
    server.drop(1006);
    await clock.advanceAsync(30);
    expect(server.connections).toBe(1);
    expect(errors.at(-1)).toBeInstanceOf(ReconnectStoppedError);
    expect(errors.at(-1)).toMatchObject({ code: 'reconnect-stopped', refusal: 'id-taken' });
  });

  it('autoconnect false waits for connect(); reconnect false reconnects lazily on the next send', async () => {
    const server = fakeServer();
    const clock = new ManualClock();
    const signaller = track(
      createSignaller(
        server.connector,
        { id: 'ME', metadata: 'bare', autoconnect: false, reconnect: false },
        { clock },
      ),
    );
    signaller.send('/early', 1);
    await clock.advanceAsync(20);
    expect(server.connections).toBe(0);
    await signaller.connect();
    expect(server.take()).toEqual(['/early|ME|1']);
    server.drop();
    await clock.advanceAsync(20);
    expect(server.connections).toBe(1);
    signaller.send('/later', 2);
    await flushMicrotasks();
    expect(server.connections).toBe(2);
    expect(server.take()).toEqual(['/later|ME|2']);
  });

  it('generates a 25-character id starting with c', () => {
    const signaller = createSignaller(fakeServer().connector, { autoconnect: false });
    expect(String(signaller.id)).toMatch(/^c[0-9a-z]{24}$/);
  });
});

describe('typed messages and string ids', () => {
  type Chat = { chat: [{ text: string }, number] };

  it('types payloads from the message map; source.id is a string for known and unknown senders', async () => {
    const server = fakeServer();
    const signaller = track(
      createSignaller<Chat>(
        server.connector,
        { id: 7, metadata: 'bare' },
        { clock: new ManualClock() },
      ),
    );
    await flushMicrotasks();
    expectTypeOf(signaller.id).toEqualTypeOf<string>();
    expect(signaller.id).toBe('7');
    const seen: unknown[] = [];
    signaller.on('message:chat', (message, seq, source, raw) => {
      expectTypeOf(message.text).toEqualTypeOf<string>();
      expectTypeOf(seq).toEqualTypeOf<number>();
      expectTypeOf(source.id).toEqualTypeOf<string>();
      seen.push([message.text, seq, source.id, source.data?.room, raw]);
    });
    signaller.on('peer:announce', (data) => seen.push(['announce', data.id]));
    server.push('/chat|stranger|{"text":"hi"}|1');
    server.push('/announce|5|{"id":5,"room":"r"}');
    server.push('/chat|5|{"text":"yo"}|2');
    expect(seen).toEqual([
      ['hi', 1, 'stranger', undefined, '/chat|stranger|{"text":"hi"}|1'],
      ['announce', '5'],
      ['yo', 2, '5', 'r', '/chat|5|{"text":"yo"}|2'],
    ]);
    signaller.to('5').send('/chat', { text: 'typed' }, 3);
    // @ts-expect-error the map says /chat takes { text } and a number
    signaller.send('/chat', 'untyped');
    signaller.send('/other', 'anything goes for commands outside the map');
    expect(server.take().filter((frame) => frame.includes('chat'))).toEqual([
      '/to|5|/chat|7|{"text":"typed"}|3',
      '/chat|7|untyped',
    ]);
  });

  it('hands the server /leave reason to message:leave listeners', async () => {
    const { server, signaller } = await connected();
    const reasons: (string | undefined)[] = [];
    signaller.on('message:leave', (data, source) => reasons.push(`${source.id}:${data.reason}`));
    server.push('/announce|P|{"id":"P","room":"r"}');
    server.push('/leave|P|{"id":"P","reason":"disconnect"}');
    expect(reasons).toEqual(['P:disconnect']);
  });
});
