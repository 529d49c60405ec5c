/**
 * Interop on one shared HTTP server with one hub: an original `rtc-signaller-socket.io@2.3.0`
 * client over Socket.IO (bare dialect) and a Switchyard signaller over WebSocket (json dialect)
 * in one room, with broadcasts and `/to` in both directions.
 */
import { io, type Socket } from 'socket.io-client';
import { expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { cleanupStack, nextEvent, serveHalves, waitUntil } from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { webSocketServer } from '@switchyard/transport-ws/server';
import { originalSignaller, recorder } from './original-client.test-helper.ts';
import { socketIoServer } from './server.ts';

it('an original socket.io client and a Switchyard WebSocket client share a room', async () => {
  await using stack = cleanupStack();
  const hub = createHub({ graceMs: 300 });
  stack.defer(() => hub.close());
  // the WebSocket half takes upgrades on every path the Socket.IO half does not claim
  const served = stack.use(await serveHalves(hub.accept, [webSocketServer(), socketIoServer()]));
  const url = served.url();
  const transports: string[] = [];
  hub.on('connection:opened', (context) => transports.push(context.transport));

  // the original's README: require('rtc-signaller-socket.io')(require('socket.io-client')(url))
  const socket: Socket = io(url, { forceNew: true, reconnection: false });
  stack.defer(() => socket.disconnect());
  const original = originalSignaller(socket);
  const ours: Signaller = createSignaller(webSocketConnector(url));
  stack.defer(() => ours.leave());
  const ourId = String(ours.id);

  const roominfo = recorder(original, 'message:roominfo');
  original.announce({ room: 'mixed', name: 'rtc.io' });
  expect((await roominfo.next())[0]).toEqual({ memberCount: 1 });

  const seenByOriginal = recorder(original, 'peer:announce');
  const seenByUs = nextEvent(ours, 'peer:announce');
  ours.announce({ room: 'mixed', name: 'switchyard' });
  expect((await seenByOriginal.next())[0]).toMatchObject({ id: ourId, name: 'switchyard' });
  expect((await seenByUs)[0]).toMatchObject({ id: original.id, name: 'rtc.io' });
  expect(hub.roomMembers('mixed').sort()).toEqual([original.id, ourId].sort());
  expect(transports.sort()).toEqual(['socket.io', 'ws']);

  // broadcasts, each side in its own dialect
  const raw = recorder(original, 'rawdata');
  const chatAtOriginal = recorder(original, 'message:chat');
  const chatAtUs = nextEvent(ours, 'message:chat');
  original.send('/chat', { text: 'from rtc.io' });
  ours.send('/chat', { text: 'from switchyard' });
  const [payload, source, frame] = await chatAtUs;
  expect(payload).toEqual({ text: 'from rtc.io' });
  expect((source as { id: string }).id).toBe(original.id);
  expect(frame).toBe(`/chat|{"id":"${original.id}"}|{"text":"from rtc.io"}`);
  expect((await chatAtOriginal.next())[0]).toEqual({ text: 'from switchyard' });

  // directed messages
  const directAtOriginal = recorder(original, 'message:direct');
  const directAtUs = nextEvent(ours, 'message:direct');
  original.to(ourId).send('/direct', { n: 1 });
  ours.to(original.id).send('/direct', { n: 2 });
  expect((await directAtUs)[0]).toEqual({ n: 1 });
  expect((await directAtOriginal.next())[0]).toEqual({ n: 2 });
  expect(raw.received.map(([data]) => data)).toEqual(
    expect.arrayContaining([
      `/chat|${ourId}|{"text":"from switchyard"}`,
      `/to|${original.id}|/direct|${ourId}|{"n":2}`,
    ]),
  );

  // the original leaves: /leave, then its socket disconnects
  const left = nextEvent(ours, 'peer:leave');
  original.leave();
  expect((await left)[0]).toBe(original.id);
  await waitUntil(() => hub.stats().connections === 1, 'the original socket to close');
  expect(hub.roomMembers('mixed')).toEqual([ourId]);
});
