/** Broker session housekeeping shared by the client half and tests; browser-safe. */
import mqtt, { type MqttClient } from 'mqtt';

/** Credentials and limits of {@link discardMqttSession}. */
export interface DiscardSessionOptions {
  readonly username?: string;
  readonly password?: string;
  /** Give up after this long. @default 5000 */
  readonly timeoutMs?: number;
}

/**
 * Ends the persistent broker session of `clientId`: MQTT 3.1.1 can only do that with a new
 * connection that asks for a clean session, so that is what this opens and closes. Best effort:
 * resolves (never rejects) once done or after the timeout.
 */
export function discardMqttSession(
  url: string,
  clientId: string,
  options: DiscardSessionOptions = {},
): Promise<void> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const client = mqtt.connect(url, {
      clientId,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      ...(options.username !== undefined && { username: options.username }),
      ...(options.password !== undefined && { password: options.password }),
    });
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      client.end(true);
      resolve();
    };
    const timer = setTimeout(finish, timeoutMs);
    client.once('connect', () => client.end(false, finish));
    client.on('error', finish);
    client.once('close', finish);
  });
}

/**
 * Ends a client gracefully (outstanding acknowledgements, then DISCONNECT, so no Will is sent),
 * or cuts its connection after `timeoutMs` when the broker does not answer.
 */
export function endWithin(client: MqttClient, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.stream?.destroy();
      resolve();
    }, timeoutMs);
    client.end(false, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
