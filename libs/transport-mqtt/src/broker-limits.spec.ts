/**
 * The embedded broker bounds what one connection can make it hold: a packet over the size limit
 * closes the connection from its header alone (before or after CONNECT, TCP or WebSocket), and a
 * device must ask for a keepalive so that it can be noticed gone.
 */
import { connect as tcpConnect } from 'node:net';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { cleanupStack, listenHttp, quietFor } from '@switchyard/testing';
import { startEmbeddedBroker } from './broker/broker.ts';
import { watchPacketSizes, type PacketRefusal } from './broker/packet-limit.ts';

/** A fixed header: type byte plus the remaining length as an MQTT varint. */
function header(type: number, length: number): Buffer {
  const bytes = [type];
  do {
    let byte = length % 128;
    length = Math.floor(length / 128);
    if (length > 0) byte |= 0x80;
    bytes.push(byte);
  } while (length > 0);
  return Buffer.from(bytes);
}

describe('packet size limit', () => {
  it('follows the framing across chunk boundaries and refuses from the header alone', () => {
    const refusals: PacketRefusal[] = [];
    const watch = watchPacketSizes(1000, (refusal) => refusals.push(refusal));
    // three packets (0, 999 and 300 bytes of body), split at every awkward place
    const stream = Buffer.concat([
      header(0xc0, 0),
      header(0x30, 999),
      Buffer.alloc(999),
      header(0x30, 300),
      Buffer.alloc(300),
    ]);
    for (let i = 0; i < stream.length; i += 7) watch(stream.subarray(i, i + 7));
    expect(refusals).toEqual([]);
    watch(header(0x30, 200 * 1024 * 1024).subarray(0, 2));
    expect(refusals).toEqual([]);
    watch(header(0x30, 200 * 1024 * 1024).subarray(2));
    expect(refusals).toEqual([{ reason: 'too-large', length: 200 * 1024 * 1024 }]);
    const malformed: PacketRefusal[] = [];
    watchPacketSizes(1000, (refusal) => malformed.push(refusal))(
      Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]),
    );
    expect(malformed).toEqual([{ reason: 'malformed' }]);
  });

  it('closes oversized packets before and after CONNECT, over TCP and WebSocket; devices stay', async () => {
    await using stack = cleanupStack();
    const broker = await startEmbeddedBroker({ port: 0, maxPacketBytes: 128 * 1024 });
    stack.defer(() => broker.close());
    const honest = await mqtt.connectAsync(broker.url, { clientId: 'honest', reconnectPeriod: 0 });
    stack.defer(() => honest.endAsync(true));
    await honest.subscribeAsync('switchyard/down/honest');

    // before CONNECT over TCP: a CONNECT announcing 200 MiB, then bytes that never end
    const raw = tcpConnect(broker.port, '127.0.0.1');
    const rawClosed = new Promise((resolve) => raw.once('close', resolve));
    raw.on('error', () => undefined);
    raw.write(header(0x10, 200 * 1024 * 1024));
    raw.write(Buffer.alloc(64 * 1024));
    await rawClosed;

    // before CONNECT over WebSocket (/mqtt), in frames under the WebSocket limit
    await using http = await listenHttp();
    http.server.on('upgrade', (request, socket, head) =>
      broker.handleUpgrade(request, socket, head),
    );
    const ws = new WebSocket(http.url('/mqtt').replace('http', 'ws'), 'mqtt');
    await new Promise((resolve) => ws.once('open', resolve));
    const wsClosed = new Promise((resolve) => ws.once('close', resolve));
    ws.send(header(0x10, 50 * 1024 * 1024));
    ws.send(Buffer.alloc(100 * 1024));
    await wsClosed;

    // after CONNECT: a device's 1 MiB PUBLISH
    const big = await mqtt.connectAsync(broker.url, { clientId: 'big', reconnectPeriod: 0 });
    stack.defer(() => big.endAsync(true));
    const bigClosed = new Promise<void>((resolve) => big.once('close', () => resolve()));
    big.publish('switchyard/status/big', Buffer.alloc(1024 * 1024));
    await bigClosed;

    expect(broker.packetsRefused).toBe(3);
    await honest.publishAsync('switchyard/status/honest', 'still here', { qos: 1 });
    expect(honest.connected).toBe(true);
    const later = await mqtt.connectAsync(broker.url, { clientId: 'later', reconnectPeriod: 0 });
    await later.endAsync(true);
  });

  it('refuses a device without keepalive, which could never be noticed gone', async () => {
    await using stack = cleanupStack();
    const broker = await startEmbeddedBroker({ port: 0 });
    stack.defer(() => broker.close());
    const refused = await mqtt
      .connectAsync(broker.url, { clientId: 'ghost', keepalive: 0, reconnectPeriod: 0 })
      .then((client) => client.endAsync(true).then(() => 'connected'))
      .catch((error: Error) => error.message);
    expect(refused).not.toBe('connected');
    const fine = await mqtt.connectAsync(broker.url, { clientId: 'dev', keepalive: 60 });
    await fine.endAsync(true);
  });

  it("a second CONNECT cannot take a live device's client id; once it is gone, it can", async () => {
    await using stack = cleanupStack();
    const broker = await startEmbeddedBroker({ port: 0 });
    stack.defer(() => broker.close());
    const device = await mqtt.connectAsync(broker.url, { clientId: 'cam1', reconnectPeriod: 0 });
    const thief = await mqtt
      .connectAsync(broker.url, { clientId: 'cam1', reconnectPeriod: 0 })
      .then(async (client) => {
        await client.endAsync(true);
        return 'connected';
      })
      .catch((error: Error) => error.message);
    expect(thief).toMatch(/Identifier rejected/i);
    expect(device.connected).toBe(true);
    await device.endAsync();
    const back = await mqtt.connectAsync(broker.url, { clientId: 'cam1', reconnectPeriod: 0 });
    expect(back.connected).toBe(true);
    await back.endAsync(true);
  });

  it('keeps no retained messages and few QoS 2 publishes awaiting a PUBREL', async () => {
    await using stack = cleanupStack();
    const broker = await startEmbeddedBroker({ port: 0 });
    stack.defer(() => broker.close());
    const device = await mqtt.connectAsync(broker.url, { clientId: 'dev', reconnectPeriod: 0 });
    stack.defer(() => device.endAsync(true));
    await device.publishAsync('switchyard/status/dev', 'online', { qos: 1, retain: true });
    // a later subscriber to the status topics (the bridge) gets nothing retained
    const { username, password } = broker.bridge;
    const bridge = await mqtt.connectAsync(broker.url, {
      clientId: broker.bridge.clientId,
      username,
      password,
      reconnectPeriod: 0,
    });
    stack.defer(() => bridge.endAsync(true));
    const retained: string[] = [];
    bridge.on('message', (topic) => retained.push(topic));
    await bridge.subscribeAsync('switchyard/status/+', { qos: 1 });
    await quietFor(300);
    expect(retained).toEqual([]);

    // QoS 2 publishes whose PUBREL never comes: the 17th closes the connection
    const raw = tcpConnect(broker.port, '127.0.0.1');
    raw.on('error', () => undefined);
    const closed = new Promise<void>((resolve) => raw.once('close', () => resolve()));
    const connack = new Promise<void>((resolve) => raw.once('data', () => resolve()));
    raw.write(connectPacket('q2dev'));
    await connack;
    for (let id = 1; id <= 20; id++) raw.write(qos2Publish('switchyard/up/q2dev', id, '/x|q2dev'));
    await closed;
    expect(device.connected).toBe(true);
  });
});

/** An MQTT 3.1.1 CONNECT with a clean session and a 60 s keepalive. */
function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([
    Buffer.from([0, 4, ...Buffer.from('MQTT'), 4, 0x02, 0, 60, id.length >> 8, id.length & 0xff]),
    id,
  ]);
  return Buffer.concat([header(0x10, body.length), body]);
}

/** A QoS 2 PUBLISH. */
function qos2Publish(topic: string, messageId: number, payload: string): Buffer {
  const name = Buffer.from(topic);
  const body = Buffer.concat([
    Buffer.from([name.length >> 8, name.length & 0xff]),
    name,
    Buffer.from([messageId >> 8, messageId & 0xff]),
    Buffer.from(payload),
  ]);
  return Buffer.concat([header(0x34, body.length), body]);
}
