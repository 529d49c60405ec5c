/**
 * `@switchyard/transport-mqtt`: signalling over MQTT topics, so IoT devices that speak only MQTT
 * meet browsers that speak WebSocket in the same room. Import `./client` in browsers and devices,
 * `./server` (a bridge to your broker) or `./broker` (an embedded one) in Node.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHub } from '@switchyard/hub';
 * import { createSignaller } from '@switchyard/signaller';
 * import { serveTransports } from '@switchyard/http';
 * import { embeddedMqtt } from '@switchyard/transport-mqtt/broker';
 * import { mqttConnector } from '@switchyard/transport-mqtt/client';
 *
 * const hub = createHub();
 * const http = createServer().listen(3000, '127.0.0.1');
 * const mqtt = embeddedMqtt({ port: 0 });
 * await serveTransports(http, hub.accept, [mqtt]);
 * console.log(mqtt.describe());
 *
 * const device = createSignaller(mqttConnector(mqtt.broker!.url, { clientId: 'sensor-1' }));
 * device.announce({ room: 'lab' });
 * ```
 */
export * from './client.ts';
export * from './server.ts';
export * from './broker.ts';
