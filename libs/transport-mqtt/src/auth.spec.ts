import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import mqtt from 'mqtt';
import { createJwtAuthority } from '@switchyard/auth';
import { createHub } from '@switchyard/hub';
import type { Connector } from '@switchyard/protocol';
import {
  describeAuthentication,
  mintToken,
  serveHalves,
  TEST_JWT_SECRET,
} from '@switchyard/testing';
import { embeddedMqtt } from './broker.ts';
import { mqttBridge } from './server.ts';
import { discardMqttSession } from './shared/session.ts';
import { sharedMosquitto, uniqueNames } from './mosquitto.test-helper.ts';
import { trackedConnector, type TrackedConnector } from './setup.test-helper.ts';

describeAuthentication({
  name: 'mqtt (embedded broker: the token is the MQTT password)',
  async setup(accept, tokens) {
    const half = embeddedMqtt({ port: 0, tokens });
    const served = await serveHalves(accept, [half]);
    const connectors: TrackedConnector[] = [];
    return {
      connector(token): Connector {
        const connector = trackedConnector(half.broker!.url, token ? { token } : {});
        connectors.push(connector);
        return connector;
      },
      async [Symbol.asyncDispose]() {
        await Promise.all(connectors.map((connector) => connector.closeAll()));
        await served.close();
      },
    };
  },
});

describeAuthentication({
  name: 'mqtt (bridged to Mosquitto)',
  noConnectTimeToken: 'Mosquitto checks its own credentials; devices authenticate in the announce',
  async setup(accept) {
    const url = await sharedMosquitto();
    const { prefix, bridgeClientId } = uniqueNames();
    const served = await serveHalves(accept, [
      mqttBridge({ url, prefix, clientId: bridgeClientId, reconnectPeriodMs: 100 }),
    ]);
    const connectors: TrackedConnector[] = [];
    return {
      connector(): Connector {
        const connector = trackedConnector(url, { prefix });
        connectors.push(connector);
        return connector;
      },
      async [Symbol.asyncDispose]() {
        await Promise.all(connectors.map((connector) => connector.closeAll()));
        await served.close();
        await discardMqttSession(url, bridgeClientId);
      },
    };
  },
});

describe('embedded broker with tokens', () => {
  it('refuses a CONNECT with an invalid token, and a live client id to another principal', async () => {
    const tokens = createJwtAuthority({ secret: TEST_JWT_SECRET });
    const hub = createHub({}, { tokens });
    const half = embeddedMqtt({ port: 0, tokens });
    await using served = await serveHalves(hub.accept, [half]);
    const url = half.broker!.url;
    const connack = (clientId: string, password?: string) =>
      new Promise<number>((resolve) => {
        const client = mqtt.connect(url, {
          clientId,
          reconnectPeriod: 0,
          ...(password !== undefined && { username: 'jwt', password }),
        });
        client.once('connect', () => resolve(0));
        client.once('error', (error) => resolve(Number((error as { code?: number }).code)));
        connections.push(client);
      });
    const connections: mqtt.MqttClient[] = [];
    const id = `dev-${randomUUID().slice(0, 8)}`;
    expect(await connack(id, 'forged')).toBe(5);
    expect(await connack(id, await mintToken({ sub: 'alice' }))).toBe(0);
    expect(await connack(id, await mintToken({ sub: 'mallory' }))).toBe(2);
    expect(await connack(id)).toBe(2); // anonymous: no takeover either
    expect(await connack(id, await mintToken({ sub: 'alice', n: 2 }))).toBe(0);
    expect(await connack(`anon-${id}`)).toBe(0); // its announce must carry a token
    for (const client of connections) client.end(true);
    hub.close();
    void served;
  });
});
