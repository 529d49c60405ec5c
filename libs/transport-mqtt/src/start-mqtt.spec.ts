/** `startMqtt`, what the server app's `--mqtt auto|embedded|off|<broker URL>` runs. */
import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from '@switchyard/hub';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { nextEvent, rawClient, waitUntil } from '@switchyard/testing';
import { attachWebSocket } from '@switchyard/transport-ws/server';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import type { Connector } from '@switchyard/protocol';
import { mqttConnector } from './client.ts';
import { freePort, startMosquitto } from './mosquitto.test-helper.ts';
import { discardMqttSession } from './session.ts';
import { startMqtt, type MqttService, type StartMqttOptions } from './start-mqtt.ts';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(hub: Hub, options: StartMqttOptions): Promise<MqttService> {
  const service = await startMqtt(hub.accept, { probeTimeoutMs: 1500, ...options });
  cleanups.push(() => service.close());
  return service;
}

function hub(): Hub {
  const created = createHub({ graceMs: 200 });
  cleanups.push(() => created.close());
  return created;
}

async function httpServer(): Promise<Server> {
  const server = createHttpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return server;
}

async function join(
  connector: Connector & { settled?: () => Promise<void> },
  room: string,
): Promise<Signaller> {
  const signaller = createSignaller(connector, { reconnectDelay: () => 50 });
  // cleanups run in reverse: leave, then let the MQTT pipe discard its session while the broker is up
  if (connector.settled) cleanups.push(() => connector.settled!());
  cleanups.push(() => signaller.leave());
  const info = nextEvent(signaller, 'roominfo');
  signaller.announce({ room });
  await info;
  return signaller;
}

describe('startMqtt', () => {
  it('off starts nothing', async () => {
    const service = await start(hub(), { mode: 'off' });
    expect(service).toMatchObject({ mode: 'off', description: 'MQTT off' });
    expect(service.bridge).toBeUndefined();
  });

  it('auto with no broker listening embeds one, on TCP and at /mqtt on the shared server', async () => {
    const h = hub();
    const server = await httpServer();
    // the WebSocket transport takes every other path, as in the server app
    const websocket = attachWebSocket(server, h.accept, { excludePaths: ['/mqtt'] });
    cleanups.push(() => websocket.close());
    const port = await freePort();
    const service = await start(h, {
      mode: 'auto',
      autoUrl: `mqtt://127.0.0.1:${port}`,
      port,
      httpServer: server,
    });
    expect(service).toMatchObject({
      mode: 'embedded',
      brokerUrl: `mqtt://127.0.0.1:${port}`,
      wsPath: '/mqtt',
    });
    expect(service.description).toMatch(/auto found no usable broker at mqtt:\/\/127\.0\.0\.1:\d+/);
    expect(service.description).toContain(`embedded broker at mqtt://127.0.0.1:${port}`);

    const http = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const overTcp = await join(mqttConnector(service.brokerUrl!), 'mixed');
    const overWs = await join(mqttConnector(`ws://${http}/mqtt`), 'mixed');
    const browser = await join(webSocketConnector(`http://${http}/`), 'mixed');
    for (const peer of [overTcp, overWs, browser]) {
      await waitUntil(() => peer.peers.size === 2, 'every peer to know the other two');
    }
    expect(h.roomMembers('mixed')).toHaveLength(3);
  });

  it('auto finds the Mosquitto at 127.0.0.1:1883 and bridges to it', async () => {
    const h = hub();
    const prefix = `switchyard-test-${randomUUID()}`;
    const clientId = `switchyard-bridge-${randomUUID()}`;
    cleanups.push(() => discardMqttSession('mqtt://127.0.0.1:1883', clientId));
    const service = await start(h, { mode: 'auto', prefix, clientId });
    expect(service).toMatchObject({ mode: 'bridge', brokerUrl: 'mqtt://127.0.0.1:1883' });
    expect(service.description).toContain('bridged to mqtt://127.0.0.1:1883');
    const device = await rawClient(mqttConnector('mqtt://127.0.0.1:1883', { prefix }), ['D', 'r']);
    cleanups.push(() => device[Symbol.asyncDispose]());
    expect(h.roomMembers('r')).toEqual(['D']);
  });

  it('embedded on a taken port falls back to a free one and says so', async () => {
    const squatter = createTcpServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => squatter.close(resolve)));
    const taken = (squatter.address() as AddressInfo).port;
    const h = hub();
    const service = await start(h, { mode: 'embedded', port: taken });
    expect(service.mode).toBe('embedded');
    expect(service.brokerUrl).not.toBe(`mqtt://127.0.0.1:${taken}`);
    expect(service.description).toContain(`(port ${taken} was taken)`);
    const device = await rawClient(mqttConnector(service.brokerUrl!), ['D', 'r']);
    cleanups.push(() => device[Symbol.asyncDispose]());
    expect(h.roomMembers('r')).toEqual(['D']);
  });

  it('a broker URL that is not up yet does not stop start-up; the bridge connects when it comes', async () => {
    const h = hub();
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const service = await start(h, { mode: url, bridge: { reconnectPeriodMs: 100 } });
    expect(service.mode).toBe('bridge');
    expect(service.description).toContain(`bridging to ${url}`);
    expect(service.description).toContain('not connected yet');
    const mosquitto = await startMosquitto({ port });
    cleanups.push(() => mosquitto[Symbol.asyncDispose]());
    await waitUntil(() => service.bridge!.connected, 'the bridge to connect');
    const device = await rawClient(mqttConnector(url), ['D', 'r']);
    cleanups.push(() => device[Symbol.asyncDispose]());
    expect(h.roomMembers('r')).toEqual(['D']);
  });

  it('a broker that refuses the bridge, or a mode it does not know, fails start-up clearly', async () => {
    const mosquitto = await startMosquitto({ users: { 'switchyard-bridge': 'right' } });
    cleanups.push(() => mosquitto[Symbol.asyncDispose]());
    await expect(
      startMqtt(hub().accept, {
        mode: mosquitto.url,
        username: 'switchyard-bridge',
        password: 'wrong',
      }),
    ).rejects.toThrow(/refused the bridge/);
    await expect(startMqtt(hub().accept, { mode: 'sometimes' })).rejects.toThrow(TypeError);
  });
});
