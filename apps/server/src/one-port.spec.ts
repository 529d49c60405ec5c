import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { nextEvent, waitUntil } from '@switchyard/testing';
import { mqttConnector } from '@switchyard/transport-mqtt/client';
import { socketIoConnector } from '@switchyard/transport-socketio/client';
import { sseConnector } from '@switchyard/transport-sse/client';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { startServer, type RunningServer } from './server.ts';

let server: RunningServer | undefined;
const peers: Signaller[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.leave();
  await server?.close();
});

describe('switchyard serves every transport on one port', () => {
  it('Socket.IO, SSE, WebSocket and MQTT peers meet in one room', async () => {
    server = await startServer({
      port: 0,
      logger: pino({ level: 'silent' }),
      mqtt: 'embedded',
      mqttPort: 0,
    });
    expect(server.transports.halves.map((half) => half.transport)).toEqual([
      'ws',
      'socket.io',
      'sse',
      'mqtt',
    ]);
    const viaSocketIo = createSignaller(socketIoConnector(server.url), { id: 'sio' });
    const viaWs = createSignaller(webSocketConnector(server.url), { id: 'web' });
    const viaSse = createSignaller(sseConnector(server.url), { id: 'sse', metadata: 'bare' });
    // the device speaks MQTT over WebSocket at /mqtt on the same port, as a browser would
    const viaMqtt = createSignaller(
      mqttConnector(`${server.url.replace('http', 'ws')}/mqtt`, {
        clientId: 'dev',
      }),
      { id: 'dev' },
    );
    peers.push(viaSocketIo, viaWs, viaSse, viaMqtt);
    const seen = nextEvent(viaWs, 'peer:announce');
    viaSocketIo.announce({ room: 'one-port' });
    await nextEvent(viaSocketIo, 'roominfo');
    viaWs.announce({ room: 'one-port' });
    expect((await seen)[0]).toMatchObject({ id: 'sio' });
    await waitUntil(() => viaSocketIo.peers.has('web'), 'the reply announce');
    const got = nextEvent(viaSocketIo, 'message:hello');
    viaWs.to('sio').send('/hello', { over: 'ws' });
    expect((await got)[0]).toEqual({ over: 'ws' });
    viaSse.announce({ room: 'one-port' });
    expect((await nextEvent(viaSse, 'roominfo'))[0].memberCount).toBe(3);
    const atSse = nextEvent(viaSse, 'message:hello');
    const atWs = nextEvent(viaWs, 'message:hello');
    viaSocketIo.send('/hello', { over: 'socket.io' });
    expect((await atSse)[0]).toEqual({ over: 'socket.io' });
    expect((await atWs)[0]).toEqual({ over: 'socket.io' });
    expect(server.hub.roomMembers('one-port').sort()).toEqual(['sio', 'sse', 'web']);
    viaMqtt.announce({ room: 'one-port' });
    expect((await nextEvent(viaMqtt, 'roominfo'))[0].memberCount).toBe(4);
    const atDevice = nextEvent(viaMqtt, 'message:hello');
    viaSse.to('dev').send('/hello', { over: 'sse' });
    expect((await atDevice)[0]).toEqual({ over: 'sse' });
    const transports = new Set<string>();
    server.hub.on('peer:left', (peer) => transports.add(peer.transport));
    for (const peer of peers) peer.leave();
    await waitUntil(() => transports.size === 4, 'every peer to leave');
    expect([...transports].sort()).toEqual(['mqtt', 'socket.io', 'sse', 'ws']);
  });
});
