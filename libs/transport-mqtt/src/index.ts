/**
 * `@switchyard/transport-mqtt`: signalling over MQTT topics, so IoT devices that speak only MQTT
 * meet browsers that speak WebSocket in the same room. Import `./client` in browsers and devices,
 * `./server` in Node.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHub } from '@switchyard/hub';
 * import { createSignaller } from '@switchyard/signaller';
 * import { startMqtt } from '@switchyard/transport-mqtt/server';
 * import { mqttConnector } from '@switchyard/transport-mqtt/client';
 *
 * const hub = createHub();
 * const server = createServer().listen(3000, '127.0.0.1');
 * const mqtt = await startMqtt(hub.accept, { mode: 'embedded', httpServer: server, port: 0 });
 * console.log(mqtt.description);
 *
 * const device = createSignaller(mqttConnector(mqtt.brokerUrl!, { clientId: 'sensor-1' }));
 * device.announce({ room: 'lab' });
 * ```
 */
export { mqttConnector, type MqttConnector, type MqttConnectorOptions } from './client.ts';
export * from './server.ts';
export { Status, PING_FRAME, closeFrame, parseCloseFrame, isValidClientId } from './topics.ts';
