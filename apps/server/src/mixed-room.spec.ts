import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { nextEvent, rawClient, waitUntil } from '@switchyard/testing';
import { memoryServer } from '@switchyard/transport-memory/server';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { startServer, type RunningServer } from './server.ts';

let server: RunningServer;
const signallers: Signaller[] = [];
afterEach(async () => {
  for (const signaller of signallers.splice(0)) signaller.leave();
  await server?.close();
});

describe('one hub, several transports', () => {
  it('a memory client (bare) and a ws client (json) meet, each reading the other in its own dialect', async () => {
    server = await startServer({ port: 0, logger: pino({ level: 'silent' }) });
    const memory = memoryServer(server.hub.accept);
    const onMemory = createSignaller(memory.connector, { metadata: 'bare', id: 'mem' });
    const onWs = createSignaller(webSocketConnector(server.url), { metadata: 'json', id: 'web' });
    signallers.push(onMemory, onWs);
    const seen = nextEvent(onWs, 'peer:announce');
    onMemory.announce({ room: 'mixed' });
    await nextEvent(onMemory, 'roominfo');
    onWs.announce({ room: 'mixed' });
    expect((await seen)[0]).toMatchObject({ id: 'mem' });
    await waitUntil(() => onMemory.peers.has('web'), 'the reply announce');

    const atWs = nextEvent(onWs, 'message:offer');
    onMemory.to('web').send('/offer', { sdp: 'v=0|x' });
    const [payload, source, raw] = await atWs;
    expect(payload).toEqual({ sdp: 'v=0|x' });
    expect((source as { id: string }).id).toBe('mem');
    expect(raw).toBe('/to|web|/offer|{"id":"mem"}|{"sdp":"v=0\\u007cx"}');

    const atMemory = nextEvent(onMemory, 'message:answer');
    onWs.send('/answer', { ok: true });
    const [, , rawAtMemory] = await atMemory;
    expect(rawAtMemory).toBe('/answer|web|{"ok":true}');
    expect(server.hub.roomMembers('mixed').sort()).toEqual(['mem', 'web']);

    // a raw ws peer cannot speak as the memory peer: stamping is per connection, not per transport
    const spoof = await rawClient(webSocketConnector(server.url), ['spoof', 'mixed']);
    spoof.say('/answer|mem|{"fake":true}');
    expect(await spoof.next((m) => m.startsWith('/error|'))).toContain('sender-mismatch');
    spoof.pipe.close();
  });
});
