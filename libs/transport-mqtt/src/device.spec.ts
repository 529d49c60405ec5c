/**
 * Devices and the bridge on the embedded broker: a device with no Switchyard code, keepalive,
 * the liveness probe and the close frame on the wire, and broker sessions. (Close codes, the
 * Last Will as a hard disconnect, unreadable payloads and the probe through the client half are
 * the pipe contract's, in mqtt.spec.ts.)
 */
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { cleanupStack, errorCodeOf, nextEvent, rawClient, waitUntil } from '@switchyard/testing';
import { startEmbeddedBroker } from './broker.ts';
import { startFaultProxy } from './fault-proxy.test-helper.ts';
import { plainDevice } from './plain-device.test-helper.ts';
import { startStack } from './stack.test-helper.ts';

/** Connects with `clientId` and a persistent session; resolves whether the broker had one. */
async function sessionPresent(url: string, clientId: string): Promise<boolean> {
  const probe = mqtt.connect(url, {
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  try {
    const connack = await new Promise<{ sessionPresent: boolean }>((resolve) =>
      probe.once('connect', resolve),
    );
    await probe.endAsync();
    return connack.sessionPresent;
  } finally {
    probe.end(true);
  }
}

describe('mqtt devices on the embedded broker', () => {
  it('a device with no Switchyard code meets a WebSocket peer in one room', async () => {
    await using stack = await startStack({ broker: 'aedes' });
    const peer = await stack.join(stack.ws, 'lab');
    const seen = nextEvent(peer, 'peer:announce');
    await using device = await plainDevice(stack, 'sensor-1');
    device.say('/announce|sensor-1|{"id":"sensor-1","room":"lab","kind":"thermometer"}');
    expect(await device.inbox.next()).toBe('/roominfo|{"memberCount":2}');
    expect((await seen)[0]).toMatchObject({ id: 'sensor-1', kind: 'thermometer' });
    // the peer's signaller answers the announce with its own, addressed to the device
    const reply = await device.inbox.next((m) => m.startsWith('/to|sensor-1|/announce|'));
    expect(reply).toContain(`"id":"${String(peer.id)}"`);

    const reading = nextEvent(peer, 'message:reading');
    device.say(`/to|${String(peer.id)}|/reading|sensor-1|{"celsius":21.5}`);
    expect((await reading)[0]).toEqual({ celsius: 21.5 });
    peer.to('sensor-1').send('/ack', { ok: true });
    // stamped in the device's dialect, fixed by its first announce (bare)
    expect(await device.inbox.next((m) => m.includes('/ack|'))).toBe(
      `/to|sensor-1|/ack|${String(peer.id)}|{"ok":true}`,
    );
    expect(stack.hub.roomMembers('lab').sort()).toEqual(['sensor-1', String(peer.id)].sort());
  });

  it('a device whose network goes silent is found by the broker keepalive and leaves', async () => {
    await using stack = await startStack({ broker: 'aedes', hub: { graceMs: 100 } });
    const peer = await stack.join(stack.ws, 'lab');
    await using proxy = await startFaultProxy(stack.brokerUrl);
    await using device = await plainDevice(stack, 'quiet', { url: proxy.url, keepalive: 1 });
    device.say('/announce|quiet|{"id":"quiet","room":"lab"}');
    await device.inbox.next();
    const left = nextEvent(peer, 'peer:leave', () => true, 6000);
    const frozenAt = Date.now();
    proxy.freeze(); // no FIN, no RST: only the missing PINGREQs tell
    expect((await left)[0]).toBe('quiet');
    // aedes waits 1.5 × keepalive for a packet
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(1400);
  });

  it('the probe and the close on the wire: `ping`, answered with `online`, keeps the id; ignored, the holder gets `close|4009|…`', async () => {
    await using stack = await startStack({ broker: 'aedes', hub: { livenessTimeoutMs: 300 } });
    // a device written from the docs' example answers ping on its status topic: a claimer is refused
    await using holder = await plainDevice(stack, 'holder', { answersPings: true });
    holder.say('/announce|KEPT|{"id":"KEPT","room":"r"}');
    await holder.inbox.next((m) => m.startsWith('/roominfo|'));
    await using claimer = await rawClient(stack.mqtt());
    claimer.say('/announce|KEPT|{"id":"KEPT","room":"r"}');
    expect(errorCodeOf(await claimer.next())).toBe('id-taken');
    expect(await holder.inbox.next()).toBe('ping');

    // one that ignores ping cannot vouch for itself: the newcomer takes over
    await using mute = await plainDevice(stack, 'mute');
    mute.say('/announce|TAKEN|{"id":"TAKEN","room":"r"}');
    await mute.inbox.next();
    await using newcomer = await rawClient(stack.mqtt());
    newcomer.say('/announce|TAKEN|{"id":"TAKEN","room":"r"}');
    expect(await newcomer.next()).toBe('/roominfo|{"memberCount":2}');
    expect(await mute.inbox.next()).toBe('ping');
    expect(errorCodeOf(await mute.inbox.next())).toBe('id-taken');
    expect(await mute.inbox.next()).toBe('close|4009|id taken over');
  });

  it('a server-side close ends the client half’s broker session', async () => {
    await using stack = await startStack({ broker: 'aedes' });
    const connector = stack.mqtt({ clientId: 'closed-one' });
    const client = await rawClient(connector, ['D', 'r']);
    expect(stack.hub.disconnect('D', 4008, 'policy')).toBe(true);
    await client.closed();
    await waitUntil(() => stack.bridge.devices === 0, 'the bridge to drop the device');
    // the client half discarded its broker session: a new connection finds none
    await connector.settled();
    expect(await sessionPresent(stack.brokerUrl, 'closed-one')).toBe(false);
  });

  it('the embedded broker keeps the session of a dropped device for a while, then lets it expire', async () => {
    await using scope = cleanupStack();
    const broker = await startEmbeddedBroker({ port: 0, sessionExpiryMs: 300 });
    scope.defer(() => broker.close());
    const target = { prefix: 'switchyard', brokerUrl: broker.url };
    const kept = scope.use(await plainDevice(target, 'kept'));
    const expired = scope.use(await plainDevice(target, 'expired'));
    await kept.kill();
    await expired.kill();
    await waitUntil(() => broker.dormantSessions === 2, 'both sessions to be dormant');
    expect(await sessionPresent(broker.url, 'kept')).toBe(true);
    await waitUntil(() => broker.dormantSessions <= 1, 'the untouched session to expire');
    expect(await sessionPresent(broker.url, 'expired')).toBe(false);
  });
});
