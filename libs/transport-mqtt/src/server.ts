/**
 * Server half of the MQTT transport (Node): `mqttBridge` for a broker of the deployment's own;
 * the embedded broker is in `./broker`.
 */
export { mqttBridge, type MqttBridgeHalf, type MqttBridgeHalfOptions } from './server/half.ts';
export { withoutCredentials } from './server/redact.ts';
export { MqttBridgeError } from './server/bridge-ready.ts';
export { probeDeviceRules, type DeviceRulesVerdict } from './server/rules-probe.ts';
export {
  connectMqttBridge,
  type MqttBridge,
  type MqttBridgeOptions,
  type MqttBridgeStats,
} from './server/bridge.ts';
export { DEFAULT_PREFIX, deviceTopics, type DeviceTopics } from './shared/topics.ts';
