/**
 * No spoofing through the broker: the embedded broker's rules and the shipped Mosquitto ACL
 * (mosquitto/acl.conf, used as is) stop a client from publishing as another device or reading
 * another device's messages.
 */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import {
  cleanupStack,
  nextEvent,
  quietFor,
  rawClient,
  type CleanupStack,
} from '@switchyard/testing';
import { SHIPPED_ACL, startMosquitto } from './mosquitto.test-helper.ts';
import { startStack, type Stack } from './stack.test-helper.ts';

const BRIDGE_USER = 'switchyard-bridge';

/** The stack on one broker; `scope` holds what must outlive the stack (a private Mosquitto). */
const setups: [string, (scope: CleanupStack) => Promise<Stack>][] = [
  ['the embedded broker', () => startStack({ broker: 'aedes' })],
  [
    'Mosquitto with mosquitto/acl.conf',
    async (scope) => {
      const mosquitto = scope.use(
        await startMosquitto({ aclFile: SHIPPED_ACL, users: { [BRIDGE_USER]: 'bridge-secret' } }),
      );
      return startStack({
        broker: { url: mosquitto.url },
        prefix: 'switchyard',
        bridgeLogin: { clientId: BRIDGE_USER, username: BRIDGE_USER, password: 'bridge-secret' },
      });
    },
  ],
];

/** An MQTT client that knows the topic layout and means harm; resolves with its CONNACK error. */
async function hostile(
  scope: CleanupStack,
  stack: Stack,
  clientId: string,
  options: IClientOptions = {},
): Promise<{ client: MqttClient; received: string[]; refused?: Error }> {
  const client = mqtt.connect(stack.brokerUrl, {
    clientId,
    protocolVersion: 4,
    reconnectPeriod: 0,
    clean: true,
    ...options,
  });
  scope.defer(() => client.end(true));
  const received: string[] = [];
  client.on('message', (topic, payload) => received.push(`${topic} ${payload.toString()}`));
  const refused = await new Promise<Error | undefined>((resolve) => {
    client.once('connect', () => resolve(undefined));
    client.once('error', resolve);
  });
  return { client, received, ...(refused && { refused }) };
}

describe.each(setups)('broker rules: %s', (_name, setup) => {
  it('a hostile client cannot publish as another device, read its messages, or pose as the bridge', async () => {
    await using scope = cleanupStack();
    await using stack = await setup(scope);
    await using hostiles = cleanupStack(); // gone before the stack
    const { prefix } = stack;
    const peer = await stack.join(stack.ws, 'r');
    await using victim = await rawClient(stack.mqtt({ clientId: 'victim' }), ['V', 'r']);
    const spoofed: unknown[] = [];
    peer.on('message:evil', (value) => spoofed.push(value));

    // reading: the victim's down topic, a wildcard over every device, everything
    const reader = await hostile(hostiles, stack, 'mallory-reads');
    // (refused with 0x80 by the embedded broker; granted by Mosquitto, which then filters)
    await new Promise((resolve) =>
      reader.client.subscribe(
        [`${prefix}/down/victim`, `${prefix}/down/+`, `${prefix}/#`, '#'],
        { qos: 1 },
        resolve,
      ),
    );
    // writing: into the victim's up topic, and a fake offline status for it (one client each:
    // the embedded broker disconnects a client after a refused publish, Mosquitto drops silently)
    const writer = await hostile(hostiles, stack, 'mallory-writes');
    writer.client.publish(`${prefix}/up/victim`, '/evil|V|{"spoofed":true}', { qos: 1 });
    const faker = await hostile(hostiles, stack, 'mallory-fakes');
    faker.client.publish(`${prefix}/status/victim`, 'offline', { qos: 1 });
    // and a Last Will aimed at the victim's status, then a crash
    const willer = await hostile(hostiles, stack, 'mallory-wills', {
      will: {
        topic: `${prefix}/status/victim`,
        payload: Buffer.from('offline'),
        qos: 1,
        retain: false,
      },
    });
    willer.client.stream.destroy();

    // meanwhile the room works: a secret for the victim, and the victim's own message
    peer.to('V').send('/secret', { pin: 1234 });
    expect(await victim.next((m) => m.includes('/secret|'))).toContain('"pin":1234');
    const honest = nextEvent(peer, 'message:honest');
    victim.say('/honest|V|{"ok":true}');
    expect((await honest)[0]).toEqual({ ok: true });

    await quietFor(300);
    expect(reader.received).toEqual([]);
    expect(spoofed).toEqual([]);
    expect(victim.closeInfo).toBeUndefined();
    expect(stack.hub.stats().inGrace).toBe(0);
    expect(stack.hub.roomMembers('r').sort()).toEqual(['V', String(peer.id)].sort());

    // the bridge's login needs its secret; its client id is not free to take either
    const impostor = await hostile(hostiles, stack, 'mallory-bridge', {
      username: BRIDGE_USER,
      password: 'guess',
    });
    expect(impostor.refused?.message).toMatch(/Bad username or password|Not authorized/);
  });
});
