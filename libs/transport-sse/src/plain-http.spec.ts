/**
 * A client written from docs/transports/sse.md alone (fetch and a raw SSE parse, no Switchyard
 * client code) joins a room and talks to a WebSocket peer, with both transports on one
 * http.Server and one hub, mounted the way apps/server mounts them.
 */
import { expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import { cleanupStack, quietFor, rawClient, serveHalves } from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { webSocketServer } from '@switchyard/transport-ws/server';
import { openRawStream, seqOf } from './raw-sse.test-helper.ts';
import { sseServer } from './server.ts';

it('a plain HTTP client and a WebSocket peer share a room on one server', async () => {
  const hub = createHub({ graceMs: 100 });
  await using stack = cleanupStack();
  const served = stack.use(await serveHalves(hub.accept, [sseServer(), webSocketServer()]));
  stack.defer(() => hub.close());
  const base = served.url();

  // 1. open the stream; the first event is `session`
  await using events = await openRawStream(`${base}/sse`, { accept: 'text/event-stream' });
  const first = await events.next();
  expect(first.event).toBe('session');
  const { session } = JSON.parse(first.data) as { session: string };
  let sent = 0;
  /** POST one message; `seq` numbers my messages, `ack` tells what I have received. */
  const say = async (message: string, seq = ++sent) => {
    const last = events.events.at(-1)!;
    const response = await fetch(`${base}/sse/${session}?ack=${seqOf(last.id)}&seq=${seq}`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      body: message,
    });
    expect(response.status).toBe(204);
  };

  // 2. announce; /roominfo comes back as the first message event
  await say('/announce|plain|{"id":"plain","room":"mixed"}');
  expect(await events.next()).toMatchObject({
    event: 'message',
    id: `${session}.1`,
    data: '/roominfo|{"memberCount":1}',
  });

  // 3. a WebSocket peer joins; the plain client sees its announce
  await using peer = await rawClient(webSocketConnector(base), ['wsPeer', 'mixed']);
  expect((await events.next()).data).toBe('/announce|wsPeer|{"id":"wsPeer","room":"mixed"}');

  // 4. plain → ws, directed; a retried POST (same seq) is delivered once
  await say('/to|wsPeer|/hello|plain|{"text":"hi"}');
  await say('/chat|plain|{"n":1}');
  await say('/chat|plain|{"n":1}', sent); // the same seq again, as after a lost response
  expect(await peer.next()).toBe('/to|wsPeer|/hello|plain|{"text":"hi"}');
  expect(await peer.next()).toBe('/chat|plain|{"n":1}');

  // 5. ws → plain: a message with CR LF arrives as a JSON string in an `event: json`
  const sdp = '/to|plain|/sdp|wsPeer|v=0\r\no=- 42 1 IN IP4 127.0.0.1\r\n';
  peer.say(sdp);
  peer.say('/chat|wsPeer|{"n":2}');
  const json = await events.next();
  expect(json.event).toBe('json');
  expect(JSON.parse(json.data)).toBe(sdp);
  const chat = await events.next();
  expect([chat.event, chat.data]).toEqual(['message', '/chat|wsPeer|{"n":2}']);
  expect(seqOf(chat.id)).toBe(seqOf(json.id)! + 1);
  await quietFor(100);
  expect(peer.take()).toEqual([]); // the duplicate never arrived

  // 6. DELETE ends the session at once; the ws peer sees /leave after the grace window
  const deleted = await fetch(`${base}/sse/${session}`, { method: 'DELETE' });
  expect(deleted.status).toBe(204);
  expect(await peer.next()).toBe('/leave|plain|{"id":"plain","reason":"disconnect"}');
  await events.end();
});
