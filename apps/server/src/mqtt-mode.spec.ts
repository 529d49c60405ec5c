/** `mqttHalf`: what the server's `--mqtt auto|embedded|off|<broker URL>` runs. */
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import type { HttpServerHalf } from '@switchyard/http';
import type { Connector } from '@switchyard/protocol';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import {
  cleanupStack,
  freePort,
  nextEvent,
  rawClient,
  serveHalves,
  startMosquitto,
  waitUntil,
  type CleanupStack,
} from '@switchyard/testing';
import { discardMqttSession, mqttConnector } from '@switchyard/transport-mqtt/client';
import type { MqttBridgeHalf } from '@switchyard/transport-mqtt/server';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { webSocketServer } from '@switchyard/transport-ws/server';
import { mqttHalf, type MqttModeOptions } from './mqtt-mode.ts';

/** The ACL the repository ships for Mosquitto (prefix `switchyard`). */
const SHIPPED_ACL = fileURLToPath(
  new URL('../../../libs/transport-mqtt/mosquitto/acl.conf', import.meta.url),
);

/** A hub with the WebSocket transport and the MQTT half `options` asks for, as in the app. */
async function serve(stack: CleanupStack, options: MqttModeOptions) {
  const hub = createHub({ graceMs: 200 });
  stack.defer(() => hub.close());
  const mqtt = mqttHalf({ probeTimeoutMs: 1500, ...options });
  const halves: HttpServerHalf[] = [webSocketServer(), ...(mqtt ? [mqtt] : [])];
  const served = stack.use(await serveHalves(hub.accept, halves));
  return { hub, mqtt, served };
}

async function join(
  stack: CleanupStack,
  connector: Connector & { settled?: () => Promise<void> },
  room: string,
): Promise<Signaller> {
  const signaller = createSignaller(connector, { reconnectDelay: () => 50 });
  // cleanups run last first: leave, then let the MQTT pipe discard its session while the broker is up
  if (connector.settled) stack.defer(() => connector.settled!());
  stack.defer(() => signaller.leave());
  const info = nextEvent(signaller, 'roominfo');
  signaller.announce({ room });
  await info;
  return signaller;
}

/** The broker URL an embedded half listens on. */
const brokerUrlOf = (half: HttpServerHalf | undefined) =>
  /embedded broker at (mqtt:\/\/[^\s,]+)/.exec(half?.describe() ?? '')?.[1];

describe('mqttHalf', () => {
  it('off runs nothing; an unknown mode is refused', () => {
    expect(mqttHalf({ mode: 'off' })).toBeUndefined();
    expect(() => mqttHalf({ mode: 'sometimes' })).toThrow(TypeError);
  });

  it('auto with no broker listening embeds one, on TCP and at /mqtt on the shared server', async () => {
    await using stack = cleanupStack();
    const port = await freePort();
    const { hub, mqtt, served } = await serve(stack, {
      mode: 'auto',
      autoUrl: `mqtt://127.0.0.1:${port}`,
      port,
    });
    const description = mqtt!.describe();
    expect(description).toMatch(/auto found no usable broker at mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(description).toContain(`embedded broker at mqtt://127.0.0.1:${port}`);
    expect(description).toContain('MQTT over WebSocket at /mqtt');
    const overTcp = await join(stack, mqttConnector(brokerUrlOf(mqtt)!), 'mixed');
    const overWs = await join(
      stack,
      mqttConnector(served.url('/mqtt').replace('http', 'ws')),
      'mixed',
    );
    const browser = await join(stack, webSocketConnector(served.url('/')), 'mixed');
    for (const peer of [overTcp, overWs, browser])
      await waitUntil(() => peer.peers.size === 2, 'every peer to know the other two');
    expect(hub.roomMembers('mixed')).toHaveLength(3);
  });

  it('auto bridges to a broker that enforces the device rules; /mqtt is answered, not left hanging', async () => {
    await using stack = cleanupStack();
    const mosquitto = stack.use(
      await startMosquitto({ aclFile: SHIPPED_ACL, users: { 'switchyard-bridge': 'secret' } }),
    );
    const port = new URL(mosquitto.url).port;
    const { hub, mqtt, served } = await serve(stack, {
      mode: 'auto',
      autoUrl: `mqtt://switchyard-bridge:secret@127.0.0.1:${port}`,
      clientId: 'switchyard-bridge',
    });
    expect(mqtt!.describe()).toContain(`auto found a broker, bridged to mqtt://127.0.0.1:${port}`);
    expect(mqtt!.describe()).not.toContain('secret'); // credentials never reach a log line
    const device = stack.use(await rawClient(mqttConnector(mosquitto.url), ['D', 'r']));
    expect(hub.roomMembers('r')).toEqual(['D']);
    await expect(
      mqttConnector(served.url('/mqtt').replace('http', 'ws'), { connectTimeoutMs: 2000 })({}),
    ).rejects.toMatchObject({ name: 'ConnectRefusedError' });
    device.pipe.close();
  });

  it("auto does not bridge to a broker without the device rules (this machine's Mosquitto): it embeds one and says why", async () => {
    await using stack = cleanupStack();
    const prefix = `switchyard-test-${randomUUID()}`;
    const clientId = `switchyard-bridge-${randomUUID()}`;
    stack.defer(() => discardMqttSession('mqtt://127.0.0.1:1883', clientId));
    const { hub, mqtt } = await serve(stack, { mode: 'auto', prefix, clientId, port: 0 });
    expect(mqtt!.describe()).toMatch(
      /auto found no usable broker at mqtt:\/\/127\.0\.0\.1:1883 \(it does not enforce the device rules: an anonymous device could read switchyard-test-[^/]+\/down\/\+/,
    );
    const embedded = brokerUrlOf(mqtt);
    expect(embedded).toBeDefined();
    const device = stack.use(await rawClient(mqttConnector(embedded!, { prefix }), ['E', 'r']));
    expect(hub.roomMembers('r')).toEqual(['E']);
    device.pipe.close();
  });

  it('embedded on a taken port falls back to a free one and says so', async () => {
    await using stack = cleanupStack();
    const squatter = createTcpServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    stack.defer(() => new Promise((resolve) => squatter.close(resolve)));
    const taken = (squatter.address() as AddressInfo).port;
    const { hub, mqtt } = await serve(stack, { mode: 'embedded', port: taken });
    expect(mqtt!.describe()).toContain(`(port ${taken} was taken)`);
    const url = brokerUrlOf(mqtt)!;
    expect(url).not.toBe(`mqtt://127.0.0.1:${taken}`);
    stack.use(await rawClient(mqttConnector(url), ['D', 'r']));
    expect(hub.roomMembers('r')).toEqual(['D']);
  });

  it('a broker URL that is not up yet does not stop start-up; the bridge connects when it comes', async () => {
    await using stack = cleanupStack();
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const { hub, mqtt } = await serve(stack, { mode: url });
    expect(mqtt!.describe()).toContain(`bridged to ${url}`);
    expect(mqtt!.describe()).toContain('not connected yet');
    stack.use(await startMosquitto({ port }));
    await waitUntil(
      () => (mqtt as MqttBridgeHalf).bridge?.connected,
      'the bridge to connect',
      10_000,
    );
    stack.use(await rawClient(mqttConnector(url), ['D', 'r']));
    expect(hub.roomMembers('r')).toEqual(['D']);
  });

  it('a broker that refuses the bridge (credentials in the URL) fails start-up clearly', async () => {
    await using stack = cleanupStack();
    const mosquitto = stack.use(await startMosquitto({ users: { someone: 'right' } }));
    const hub = createHub();
    stack.defer(() => hub.close());
    const refused = mqttHalf({ mode: mosquitto.url.replace('mqtt://', 'mqtt://someone:wrong@') })!;
    await expect(serveHalves(hub.accept, [refused])).rejects.toThrow(/refused the bridge/);
  });
});
