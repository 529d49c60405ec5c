/**
 * Client half of the MQTT transport, for devices and browsers: `mqttConnector` turns one MQTT
 * connection into a pipe (publish `up/<clientId>`, subscribe `down/<clientId>`, Last Will).
 */
export {
  mqttConnector,
  discardMqttSession,
  type MqttConnector,
  type MqttConnectorOptions,
  type DiscardSessionOptions,
} from './client/connector.ts';
export {
  DEFAULT_PREFIX,
  deviceTopics,
  Status,
  PING_FRAME,
  closeFrame,
  parseCloseFrame,
  isValidClientId,
  type DeviceTopics,
} from './shared/topics.ts';
