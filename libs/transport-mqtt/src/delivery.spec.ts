/**
 * Nothing lost, nothing twice: QoS 1 with persistent sessions, redeliveries recognised at both
 * ends, the bridge's own resends made harmless by QoS 2. Each case loses one real MQTT packet
 * (through a fault proxy) and checks that the resend really crossed the wire.
 */
import { describe, expect, it } from 'vitest';
import { cleanupStack, nextEvent, quietFor, rawClient, waitUntil } from '@switchyard/testing';
import { PacketType, startFaultProxy, type FaultProxy } from './fault-proxy.test-helper.ts';
import { startStack, type BrokerChoice } from './stack.test-helper.ts';

/** Payloads that crossed the proxy more than once. */
const repeated = (payloads: string[], marker: string) =>
  payloads.filter((p, i) => p.includes(marker) && payloads.indexOf(p) !== i);

// aedes 1.2 may deliver new messages ahead of a resumed session's queue (docs/transports/mqtt.md);
// Mosquitto keeps the order
const brokers: [string, BrokerChoice, { ordered: boolean }][] = [
  ['embedded aedes', 'aedes', { ordered: false }],
  ['Mosquitto', 'mosquitto', { ordered: true }],
];

describe.each(brokers)('delivery through %s', (_name, broker, { ordered }) => {
  it('a device that drops for less than the grace window loses nothing and gets nothing twice', async () => {
    await using stack = await startStack({ broker, hub: { graceMs: 3000 } });
    const peer = await stack.join(stack.ws, 'r');
    await using proxy = await startFaultProxy(stack.brokerUrl);
    const connector = stack.mqtt({}, proxy.url);
    const device = await stack.join(connector, 'r');
    const got: number[] = [];
    device.on('message:n', (n) => got.push(n as number));
    const leaves: unknown[] = [];
    peer.on('message:leave', (data) => leaves.push(data));
    const back = nextEvent(device, 'roominfo', () => true, 8000);

    // the device handles a message, its PUBACK is lost and its connection cut
    const cut = proxy.cutAtAck('down', '/n|', PacketType.puback);
    for (let i = 0; i < 30; i++) peer.to(device.id).send('/n', i);
    await cut;
    // and more while it is away: in its broker session, or in the hub's grace queue
    for (let i = 30; i < 60; i++) peer.to(device.id).send('/n', i);
    await back;
    await waitUntil(() => got.length >= 60, 'all 60 messages', 8000);
    await quietFor(300);
    const all = Array.from({ length: 60 }, (_, i) => i);
    expect(ordered ? got : [...got].sort((a, b) => a - b)).toEqual(all);
    // the broker did resend what the device had already handled
    expect(repeated(proxy.published.down, '/n|').length).toBeGreaterThan(0);
    expect(leaves).toEqual([]);
    // leave while the proxy still forwards, so the session is discarded, not left behind
    device.leave();
    await connector.settled();
  });

  it('the bridge drops a redelivery after its own reconnect', async () => {
    await using scope = cleanupStack();
    let proxy: FaultProxy | undefined;
    await using stack = await startStack({
      broker,
      bridgeVia: async (url) => (proxy = scope.use(await startFaultProxy(url))).url,
    });
    const peer = await stack.join(stack.ws, 'r');
    await using device = await rawClient(stack.mqtt(), ['D', 'r']);
    const got: unknown[] = [];
    peer.on('message:x', (value) => got.push(value));

    const cut = proxy!.cutAtAck('down', '/x|', PacketType.puback); // the bridge's PUBACK
    device.say(`/to|${String(peer.id)}|/x|D|1`);
    await cut;
    await waitUntil(() => stack.bridge.stats().reconnects === 1, 'the bridge to reconnect');
    await waitUntil(() => got.length === 1, 'the message');
    await quietFor(300);
    expect(got).toEqual([1]);
    expect(repeated(proxy!.published.down, '/x|')).toHaveLength(1);
    expect(stack.bridge.stats().redeliveriesDropped).toBe(1);
  });

  it('a resend by the bridge after its reconnect reaches the device once (QoS 2 on that leg)', async () => {
    await using scope = cleanupStack();
    let proxy: FaultProxy | undefined;
    await using stack = await startStack({
      broker,
      bridgeVia: async (url) => (proxy = scope.use(await startFaultProxy(url))).url,
    });
    const peer = await stack.join(stack.ws, 'r');
    await using device = await rawClient(stack.mqtt(), ['D', 'r']);

    const cut = proxy!.cutAtAck('up', '/y|', PacketType.pubrec); // the broker's PUBREC
    peer.to('D').send('/y', 1);
    await cut;
    await waitUntil(() => stack.bridge.stats().reconnects === 1, 'the bridge to reconnect');
    expect(await device.next((m) => m.includes('/y|'))).toBe(`/to|D|/y|${String(peer.id)}|1`);
    await quietFor(300);
    expect(device.take().filter((m) => m.includes('/y|'))).toEqual([]);
    // the bridge did publish it twice
    expect(repeated(proxy!.published.up, '/y|')).toHaveLength(1);
  });
});
