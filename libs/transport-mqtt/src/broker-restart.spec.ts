/**
 * The bridge across broker trouble: a Mosquitto restart (persistence on, as in the sample
 * config), and a broker that lost the bridge's session.
 */
import { describe, expect, it } from 'vitest';
import { cleanupStack, nextEvent, quietFor, rawClient, waitUntil } from '@switchyard/testing';
import { startFaultProxy, type FaultProxy } from './fault-proxy.test-helper.ts';
import { startMosquitto } from './mosquitto.test-helper.ts';
import { plainDevice } from './plain-device.test-helper.ts';
import { discardMqttSession } from './shared/session.ts';
import { startStack } from './stack.test-helper.ts';

describe('broker trouble', () => {
  it('survives a Mosquitto restart: reconnects, re-subscribes, and a device that comes back keeps its membership', async () => {
    await using mosquitto = await startMosquitto({ persistence: true });
    await using stack = await startStack({
      broker: { url: mosquitto.url },
      hub: { graceMs: 3000 },
    });
    const peer = await stack.join(stack.ws, 'r');
    const device = await stack.join(stack.mqtt(), 'r', { reconnectDelay: () => 100 });
    await waitUntil(() => device.peers.has(String(peer.id)), 'the device to know the peer');
    const leaves: string[] = [];
    peer.on('peer:leave', (id) => leaves.push(id));
    const got: unknown[] = [];
    device.on('message:n', (n) => got.push(n));

    const disconnected = nextEvent(device, 'disconnected');
    await mosquitto.stop();
    await disconnected;
    peer.to(device.id).send('/n', 1); // while the broker is down
    await mosquitto.start();

    await waitUntil(() => stack.bridge.stats().reconnects >= 1, 'the bridge to reconnect');
    await waitUntil(() => got.length === 1, 'the message sent during the outage', 8000);
    const after = nextEvent(peer, 'message:after');
    device.send('/after', 2);
    expect((await after)[0]).toBe(2);
    await quietFor(300);
    expect(got).toEqual([1]);
    expect(leaves).toEqual([]);
    expect(stack.hub.roomMembers('r').sort()).toEqual([String(peer.id), String(device.id)].sort());
  });

  it('after the broker lost the bridge session, devices that answer the ping stay and the others leave', async () => {
    await using scope = cleanupStack();
    let proxy: FaultProxy | undefined;
    await using stack = await startStack({
      broker: 'aedes',
      hub: { graceMs: 100 },
      bridge: { rejoinTimeoutMs: 500 },
      bridgeVia: async (url) => (proxy = scope.use(await startFaultProxy(url))).url,
    });
    const peer = await stack.join(stack.ws, 'r');
    await using device = await rawClient(stack.mqtt(), ['D', 'r']); // the client half answers ping
    await using mute = await plainDevice(stack, 'mute'); // this one does not
    mute.say('/announce|M|{"id":"M","room":"r"}');
    await mute.inbox.next();

    // the bridge loses the broker, and the broker loses the bridge's session meanwhile
    proxy!.block();
    await waitUntil(() => !stack.bridge.connected, 'the bridge to notice');
    await discardMqttSession(stack.brokerUrl, stack.bridgeLogin.clientId, stack.bridgeLogin);
    const left = nextEvent(peer, 'peer:leave');
    proxy!.unblock();

    expect((await left)[0]).toBe('M');
    expect(mute.inbox.received).toContain('ping');
    expect(stack.bridge.stats()).toMatchObject({ reconnects: 1, notRejoined: 1, devices: 1 });
    // the bridge subscribed again: the device that answered still reaches the room
    const hello = nextEvent(peer, 'message:hello');
    device.say('/hello|D|1');
    expect((await hello)[0]).toBe(1);
    expect(stack.hub.roomMembers('r').sort()).toEqual(['D', String(peer.id)].sort());
  });
});
