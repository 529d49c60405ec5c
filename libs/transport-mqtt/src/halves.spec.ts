/**
 * The two server halves as a host serves them: `embeddedMqtt` (broker on TCP, MQTT over
 * WebSocket at `/mqtt`, bridge) next to the WebSocket half, and how `mqttBridge` starts against
 * a broker that is not up yet or refuses it. (The server app's `--mqtt` policy on top of them is
 * apps/server's.)
 */
import { createHub } from '@switchyard/hub';
import { silentLogger } from '@switchyard/protocol';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import {
  cleanupStack,
  freePort,
  listenHttp,
  rawClient,
  serveHalves,
  waitUntil,
} from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { webSocketServer } from '@switchyard/transport-ws/server';
import { embeddedMqtt } from './broker.ts';
import { mqttConnector } from './client.ts';
import { mqttBridge, type MqttBridgeHalfOptions } from './server.ts';
import { startMosquitto } from './mosquitto.test-helper.ts';

/** The status of a WebSocket upgrade at `url` with `origin`: 101, or the refusal's status. */
function upgradeStatus(url: string, origin: string): Promise<number> {
  const ws = new WebSocket(url, 'mqtt', { headers: { Origin: origin } });
  ws.on('error', () => undefined);
  return new Promise((resolve) => {
    ws.once('upgrade', () => {
      resolve(101);
      ws.terminate();
    });
    ws.once('unexpected-response', (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
  });
}

describe('embeddedMqtt', () => {
  it('serves devices on TCP and MQTT over WebSocket at /mqtt next to the ws half, with an Origin allow-list', async () => {
    await using scope = cleanupStack();
    const hub = createHub({ graceMs: 200 });
    scope.defer(() => hub.close());
    const mqtt = embeddedMqtt({ port: 0, allowedOrigins: ['http://app.test'] });
    await using served = await serveHalves(hub.accept, [mqtt, webSocketServer()]);
    const wsUrl = served.url('/mqtt').replace(/^http/, 'ws');
    expect(mqtt.describe()).toBe(
      `MQTT: embedded broker at ${mqtt.broker!.url}, MQTT over WebSocket at /mqtt (prefix switchyard)`,
    );

    await using overTcp = await rawClient(mqttConnector(mqtt.broker!.url), ['TCP', 'mixed']);
    await using overWs = await rawClient(mqttConnector(wsUrl), ['MQTT-WS', 'mixed']);
    await using browser = await rawClient(webSocketConnector(served.url('/')), ['WS', 'mixed']);
    expect(hub.roomMembers('mixed')).toEqual(['TCP', 'MQTT-WS', 'WS']);
    expect(mqtt.connections).toBe(2);
    overTcp.say('/to|WS|/hi|TCP|1');
    expect(await browser.next((m) => m.startsWith('/to|WS|'))).toBe('/to|WS|/hi|TCP|1');
    overWs.say('/to|TCP|/hey|MQTT-WS|2');
    expect(await overTcp.next((m) => m.startsWith('/to|TCP|'))).toBe('/to|TCP|/hey|MQTT-WS|2');

    // browsers send an Origin: only the allowed one gets MQTT over WebSocket
    expect(await upgradeStatus(wsUrl, 'http://evil.test')).toBe(403);
    expect(await upgradeStatus(wsUrl, 'http://app.test')).toBe(101);
  });
});

describe('mqttBridge', () => {
  async function start(options: MqttBridgeHalfOptions) {
    const hub = createHub();
    const http = await listenHttp();
    const half = mqttBridge({ reconnectPeriodMs: 100, readyTimeoutMs: 300, ...options });
    const started = Promise.resolve(
      half.start({ http: http.server, accept: hub.accept, log: silentLogger }),
    );
    return {
      half,
      hub,
      started,
      async [Symbol.asyncDispose]() {
        await started.catch(() => undefined);
        hub.close();
        await half.close();
        await http.close();
      },
    };
  }

  it('a broker that is not up yet: retry starts anyway and connects when it comes; fail does not start', async () => {
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    await using failing = await start({ url, onUnreachable: 'fail' });
    await expect(failing.started).rejects.toThrow(/is not reachable/);
    expect(failing.half.bridge).toBeUndefined();

    await using retrying = await start({ url });
    await retrying.started;
    expect(retrying.half.describe()).toMatch(
      new RegExp(
        `^MQTT: bridged to ${url} \\(prefix switchyard\\), not connected yet .*; retrying$`,
      ),
    );
    await using mosquitto = await startMosquitto({ port });
    await waitUntil(() => retrying.half.bridge!.connected, 'the bridge to connect');
    await using _device = await rawClient(mqttConnector(mosquitto.url), ['D', 'r']);
    expect(retrying.hub.roomMembers('r')).toEqual(['D']);
    expect(retrying.half.connections).toBe(1);
  });

  it('a broker that refuses the bridge fails the start, whatever onUnreachable says', async () => {
    await using mosquitto = await startMosquitto({ users: { 'switchyard-bridge': 'right' } });
    const login = { username: 'switchyard-bridge', password: 'wrong' };
    await using refused = await start({ url: mosquitto.url, ...login, readyTimeoutMs: 2000 });
    await expect(refused.started).rejects.toThrow(/refused the bridge/);
    expect(refused.half.bridge).toBeUndefined();
  });
});
