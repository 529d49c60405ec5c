import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { nextEvent, waitUntil } from '@switchyard/testing';
import { socketIoConnector } from '@switchyard/transport-socketio/client';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { startServer, type RunningServer } from './server.ts';

let server: RunningServer | undefined;
const peers: Signaller[] = [];
afterEach(async () => {
  for (const peer of peers.splice(0)) peer.leave();
  await server?.close();
});

describe('switchyard serves WebSocket and Socket.IO on one port', () => {
  it('a Socket.IO peer and a WebSocket peer meet in one room', async () => {
    server = await startServer({ port: 0, logger: pino({ level: 'silent' }) });
    const viaSocketIo = createSignaller(socketIoConnector(server.url), { id: 'sio' });
    const viaWs = createSignaller(webSocketConnector(server.url), { id: 'web' });
    peers.push(viaSocketIo, viaWs);
    const seen = nextEvent(viaWs, 'peer:announce');
    viaSocketIo.announce({ room: 'one-port' });
    await nextEvent(viaSocketIo, 'roominfo');
    viaWs.announce({ room: 'one-port' });
    expect((await seen)[0]).toMatchObject({ id: 'sio' });
    await waitUntil(() => viaSocketIo.peers.has('web'), 'the reply announce');
    const got = nextEvent(viaSocketIo, 'message:hello');
    viaWs.to('sio').send('/hello', { over: 'ws' });
    expect((await got)[0]).toEqual({ over: 'ws' });
    const transports = new Set<string>();
    server.hub.on('peer:left', (peer) => transports.add(peer.transport));
    viaSocketIo.leave();
    viaWs.leave();
    await waitUntil(() => transports.size === 2, 'both peers to leave');
    expect([...transports].sort()).toEqual(['socket.io', 'ws']);
  });
});
