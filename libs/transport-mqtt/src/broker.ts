/**
 * The embedded MQTT broker (Node): aedes with the device rules of `mosquitto/acl.conf`, dormant
 * session expiry, and `embeddedMqtt`, the server half that bridges it into the hub.
 */
export { embeddedMqtt, type EmbeddedMqttHalf, type EmbeddedMqttOptions } from './broker/half.ts';
export {
  startEmbeddedBroker,
  type EmbeddedBroker,
  type EmbeddedBrokerOptions,
  type BridgeCredentials,
  type DeviceCredentials,
} from './broker/broker.ts';
export { brokerRules, type BrokerRules, type Actor } from './broker/rules.ts';
