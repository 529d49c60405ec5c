/**
 * Does a broker enforce the device rules (docs/transports/mqtt.md, "Access control")? The topic
 * rules are what stop one device from reading another's messages or speaking as it; a broker
 * without them makes every MQTT peer spoofable, so `--mqtt auto` must not bridge to it blindly.
 * The probe logs in as an anonymous device and asks for the bridge's own subscription.
 */
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import { DEFAULT_PREFIX } from '../shared/topics.ts';

/** What the probe saw. */
export type DeviceRulesVerdict =
  | {
      readonly enforced: true;
      readonly how: 'anonymous refused' | 'subscription refused' | 'delivery refused';
    }
  | { readonly enforced: false; readonly why: string };

/** Probes the broker at `url` (within `timeoutMs`) for the device rules under `prefix`. */
export async function probeDeviceRules(
  url: string,
  { prefix = DEFAULT_PREFIX, timeoutMs = 2000 }: { prefix?: string; timeoutMs?: number } = {},
): Promise<DeviceRulesVerdict> {
  // as an anonymous device, whatever credentials (the bridge's) the URL carries
  const anonymous = new URL(url);
  anonymous.username = '';
  anonymous.password = '';
  let client: mqtt.MqttClient;
  try {
    client = await mqtt.connectAsync(anonymous.href, {
      clientId: `switchyard-probe-${randomBytes(6).toString('hex')}`,
      clean: true,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
    });
  } catch {
    // anonymous devices are refused: the broker checks who connects
    return { enforced: true, how: 'anonymous refused' };
  }
  // read every device's down topic, then write one: a device may do neither. Mosquitto grants
  // a forbidden subscription and silently never delivers, so only a delivery proves it open.
  // Nothing listens on down topics but devices, and the probe's target does not exist.
  const wildcard = `${prefix}/down/+`;
  try {
    const granted = await client.subscribeAsync(wildcard, { qos: 0 });
    if (granted.every((grant) => grant.qos >= 0x80))
      return { enforced: true, how: 'subscription refused' };
    const heard = new Promise<boolean>((resolve) => client.once('message', () => resolve(true)));
    client.publish(`${prefix}/down/switchyard-probe-target`, 'switchyard rules probe');
    const delivered = await Promise.race([
      heard,
      new Promise<boolean>((resolve) => setTimeout(resolve, Math.min(timeoutMs, 1000), false)),
    ]);
    if (!delivered) return { enforced: true, how: 'delivery refused' };
    return {
      enforced: false,
      why: `an anonymous device could read ${wildcard} (every device's messages) and write to it`,
    };
  } catch {
    return { enforced: true, how: 'subscription refused' };
  } finally {
    await client.endAsync(true);
  }
}
