/**
 * Devices and the bridge on the embedded broker: a device with no Switchyard code, the Last Will,
 * keepalive, liveness probes, server-side closes and non-text input.
 */
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { errorCodeOf, nextEvent, rawClient, waitUntil } from '@switchyard/testing';
import { startFaultProxy } from './fault-proxy.test-helper.ts';
import { plainDevice } from './plain-device.test-helper.ts';
import { startEmbeddedBroker } from './broker.ts';
import { startStack } from './stack.test-helper.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Connects with `clientId` and a persistent session; resolves whether the broker had one. */
async function sessionPresent(url: string, clientId: string): Promise<boolean> {
  const probe = mqtt.connect(url, {
    clientId,
    clean: false,
    protocolVersion: 4,
    reconnectPeriod: 0,
  });
  cleanups.push(() => probe.end(true));
  const connack = await new Promise<{ sessionPresent: boolean }>((resolve) =>
    probe.once('connect', resolve),
  );
  await probe.endAsync();
  return connack.sessionPresent;
}

describe('mqtt devices on the embedded broker', () => {
  it('a device with no Switchyard code meets a WebSocket peer; its Last Will becomes /leave after the grace window', async () => {
    const stack = await startStack({ broker: 'aedes', hub: { graceMs: 300 } }, cleanups);
    const peer = await stack.join(stack.ws, 'lab');
    const seen = nextEvent(peer, 'peer:announce');
    const device = await plainDevice(cleanups, stack, 'sensor-1');
    device.say('/announce|sensor-1|{"id":"sensor-1","room":"lab","kind":"thermometer"}');
    expect(await device.next()).toBe('/roominfo|{"memberCount":2}');
    expect((await seen)[0]).toMatchObject({ id: 'sensor-1', kind: 'thermometer' });
    // the peer's signaller answers the announce with its own, addressed to the device
    const reply = await device.next((m) => m.startsWith('/to|sensor-1|/announce|'));
    expect(reply).toContain(`"id":"${String(peer.id)}"`);

    const reading = nextEvent(peer, 'message:reading');
    device.say(`/to|${String(peer.id)}|/reading|sensor-1|{"celsius":21.5}`);
    expect((await reading)[0]).toEqual({ celsius: 21.5 });
    peer.to('sensor-1').send('/ack', { ok: true });
    // stamped in the device's dialect, fixed by its first announce (bare)
    expect(await device.next((m) => m.includes('/ack|'))).toBe(
      `/to|sensor-1|/ack|${String(peer.id)}|{"ok":true}`,
    );

    // the device dies without a word: the broker publishes its Will
    const left = nextEvent(peer, 'peer:leave');
    const killedAt = Date.now();
    device.client.stream.destroy();
    expect((await left)[0]).toBe('sensor-1');
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(280);
    expect(stack.hub.roomMembers('lab')).toEqual([String(peer.id)]);
  });

  it('a device whose network goes silent is found by the broker keepalive and leaves', async () => {
    const stack = await startStack({ broker: 'aedes', hub: { graceMs: 100 } }, cleanups);
    const peer = await stack.join(stack.ws, 'lab');
    const proxy = await startFaultProxy(stack.brokerUrl);
    cleanups.push(() => proxy[Symbol.asyncDispose]());
    const device = await plainDevice(cleanups, stack, 'quiet', { url: proxy.url, keepalive: 1 });
    device.say('/announce|quiet|{"id":"quiet","room":"lab"}');
    await device.next();
    const left = nextEvent(peer, 'peer:leave', () => true, 6000);
    const frozenAt = Date.now();
    proxy.freeze(); // no FIN, no RST: only the missing PINGREQs tell
    expect((await left)[0]).toBe('quiet');
    // aedes waits 1.5 × keepalive for a packet
    expect(Date.now() - frozenAt).toBeGreaterThanOrEqual(1400);
  });

  it('answers a payload that is not UTF-8 with /error malformed and keeps the device', async () => {
    const stack = await startStack({ broker: 'aedes' }, cleanups);
    const device = await plainDevice(cleanups, stack, 'binary');
    device.say(Buffer.from([0x2f, 0xff, 0xfe, 0x00]));
    expect(errorCodeOf(await device.next())).toBe('malformed');
    device.say('/announce|binary|{"id":"binary","room":"r"}');
    expect(await device.next()).toBe('/roominfo|{"memberCount":1}');
  });

  it('a server-side close reaches the client half as a close frame with its code, and ends the session', async () => {
    const stack = await startStack({ broker: 'aedes' }, cleanups);
    const connector = stack.mqtt({ clientId: 'closed-one' });
    const client = await rawClient(connector, ['D', 'r']);
    expect(stack.hub.disconnect('D', 4008, 'policy')).toBe(true);
    expect(await client.closed()).toEqual({ local: false, code: 4008, reason: 'policy' });
    await waitUntil(() => stack.bridge.devices === 0, 'the bridge to drop the device');
    // the client half discarded its broker session: a new connection finds none
    await connector.settled();
    expect(await sessionPresent(stack.brokerUrl, 'closed-one')).toBe(false);
  });

  it('the embedded broker keeps the session of a dropped device for a while, then lets it expire', async () => {
    const broker = await startEmbeddedBroker({ port: 0, sessionExpiryMs: 300 });
    cleanups.push(() => broker.close());
    const stack = { prefix: 'switchyard', brokerUrl: broker.url };
    const kept = await plainDevice(cleanups, stack, 'kept');
    const expired = await plainDevice(cleanups, stack, 'expired');
    kept.client.stream.destroy();
    expired.client.stream.destroy();
    await waitUntil(() => broker.dormantSessions === 2, 'both sessions to be dormant');
    expect(await sessionPresent(broker.url, 'kept')).toBe(true);
    await waitUntil(() => broker.dormantSessions <= 1, 'the untouched session to expire');
    expect(await sessionPresent(broker.url, 'expired')).toBe(false);
  });

  it('probes liveness with ping: a device that answers keeps its id, one that does not is replaced', async () => {
    const stack = await startStack({ broker: 'aedes', hub: { livenessTimeoutMs: 300 } }, cleanups);
    // the client half answers ping with online: a claimer is refused
    const holder = await rawClient(stack.mqtt(), ['KEPT', 'r']);
    const claimer = await rawClient(stack.mqtt());
    claimer.say('/announce|KEPT|{"id":"KEPT","room":"r"}');
    expect(errorCodeOf(await claimer.next())).toBe('id-taken');
    expect(holder.closeInfo).toBeUndefined();

    // a plain device that ignores ping cannot vouch for itself: the newcomer takes over
    const mute = await plainDevice(cleanups, stack, 'mute');
    mute.say('/announce|TAKEN|{"id":"TAKEN","room":"r"}');
    await mute.next();
    const newcomer = await rawClient(stack.mqtt());
    newcomer.say('/announce|TAKEN|{"id":"TAKEN","room":"r"}');
    expect(await newcomer.next()).toBe('/roominfo|{"memberCount":2}');
    expect(await mute.next()).toBe('ping');
    expect(errorCodeOf(await mute.next())).toBe('id-taken');
    expect(await mute.next()).toBe('close|4009|id taken over');
  });
});
