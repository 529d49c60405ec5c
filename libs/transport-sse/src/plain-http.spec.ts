/**
 * A client written from docs/transports/sse.md alone (fetch and a raw SSE parse, no Switchyard
 * client code) joins a room and talks to a WebSocket peer, with both transports on one
 * http.Server and one hub, mounted the way apps/server mounts them.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import { quietFor, rawClient } from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { attachWebSocket } from '@switchyard/transport-ws/server';
import { openRawStream, type RawEvent } from './raw-sse.test-helper.ts';
import { createSseServer } from './server.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('a plain HTTP client and a WebSocket peer share a room on one server', async () => {
  const hub = createHub({ graceMs: 100 });
  const sse = createSseServer(hub.accept);
  const server: Server = createServer((request, response) => {
    if (!sse.handle(request, response)) response.writeHead(404).end('not found\n');
  });
  const ws = attachWebSocket(server, hub.accept, { excludePaths: ['/sse'] });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    hub.close();
    await sse.close();
    await ws.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // 1. open the stream; the first event is `session`
  const events = await openRawStream(`${base}/sse`, { accept: 'text/event-stream' });
  cleanups.push(() => events[Symbol.asyncDispose]());
  const first = await events.next();
  expect(first.event).toBe('session');
  const { session } = JSON.parse(first.data) as { session: string };
  const seqOf = (event: RawEvent) => Number(event.id!.slice(event.id!.lastIndexOf('.') + 1));
  let sent = 0;
  /** POST one message; `seq` numbers my messages, `ack` tells what I have received. */
  const say = async (message: string, seq = ++sent) => {
    const last = events.events.at(-1)!;
    const response = await fetch(`${base}/sse/${session}?ack=${seqOf(last)}&seq=${seq}`, {
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
  const peer = await rawClient(webSocketConnector(base), ['wsPeer', 'mixed']);
  cleanups.push(() => peer[Symbol.asyncDispose]());
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
  expect(seqOf(chat)).toBe(seqOf(json) + 1);
  await quietFor(100);
  expect(peer.take()).toEqual([]); // the duplicate never arrived

  // 6. DELETE ends the session at once; the ws peer sees /leave after the grace window
  const deleted = await fetch(`${base}/sse/${session}`, { method: 'DELETE' });
  expect(deleted.status).toBe(204);
  expect(await peer.next()).toBe('/leave|plain|{"id":"plain"}');
  await events.end();
});
