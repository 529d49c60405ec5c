/**
 * Server half of the MQTT transport (Node only): the bridge between a broker and the hub, the
 * embedded broker, and `startMqtt` for the server app's `--mqtt` option.
 */
export { MqttBridgeError } from './bridge-ready.ts';
export {
  connectMqttBridge,
  type MqttBridge,
  type MqttBridgeOptions,
  type MqttBridgeStats,
} from './bridge.ts';
export {
  startEmbeddedBroker,
  type EmbeddedBroker,
  type EmbeddedBrokerOptions,
  type BridgeCredentials,
  type DeviceCredentials,
} from './broker.ts';
export { startMqtt, type MqttMode, type MqttService, type StartMqttOptions } from './start-mqtt.ts';
export { discardMqttSession, type DiscardSessionOptions } from './session.ts';
export { DEFAULT_PREFIX, deviceTopics, type DeviceTopics } from './topics.ts';
