/**
 * The MQTT topic layout and the few frames that are not protocol messages (docs/transports/mqtt.md).
 * Shared by the client half, the bridge and the embedded broker's rules; browser-safe.
 */

/** The topic prefix when none is configured. */
export const DEFAULT_PREFIX = 'switchyard';

/** The three topics of one device. */
export interface DeviceTopics {
  /** Device → bridge: one protocol message per publish. */
  readonly up: string;
  /** Bridge → device: protocol messages, plus the control frames below. */
  readonly down: string;
  /** Device → bridge: `online` after each connect; the Last Will `offline`. */
  readonly status: string;
}

/** `<prefix>/up|down|status/<clientId>`. */
export function deviceTopics(prefix: string, clientId: string): DeviceTopics {
  return {
    up: `${prefix}/up/${clientId}`,
    down: `${prefix}/down/${clientId}`,
    status: `${prefix}/status/${clientId}`,
  };
}

/** Payloads of the status topic. */
export const Status = { online: 'online', offline: 'offline' } as const;

/**
 * Control frames on the down topic. Every protocol message the hub sends starts with `/`, so a
 * down payload that does not is a control frame and can never be confused with a peer's message.
 */
export const PING_FRAME = 'ping';

/** `close|<code>|<reason>`: the server closed this connection (docs/protocol.md §4.6 codes). */
export function closeFrame(code: number, reason: string): string {
  return `close|${code}|${reason}`;
}

/** The code and reason of a `close` frame, or undefined for anything else. */
export function parseCloseFrame(frame: string): { code: number; reason: string } | undefined {
  if (!frame.startsWith('close|')) return undefined;
  const bar = frame.indexOf('|', 6);
  const code = Number(bar === -1 ? frame.slice(6) : frame.slice(6, bar));
  if (!Number.isInteger(code)) return undefined;
  return { code, reason: bar === -1 ? '' : frame.slice(bar + 1) };
}

/**
 * A client id usable in topics: one non-empty topic level without wildcards. Brokers refuse
 * or mis-route the others (`a/b` would publish under another device's subtree).
 */
export function isValidClientId(clientId: string): boolean {
  return (
    clientId.length > 0 &&
    clientId.length <= 256 &&
    !/[/+#]/.test(clientId) &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f]/.test(clientId)
  );
}

/** Which device topic `topic` is, or undefined when it is not one under `prefix`. */
export function parseDeviceTopic(
  prefix: string,
  topic: string,
): { readonly kind: 'up' | 'down' | 'status'; readonly clientId: string } | undefined {
  if (!topic.startsWith(prefix) || topic.charCodeAt(prefix.length) !== 0x2f /* '/' */) {
    return undefined;
  }
  const rest = topic.slice(prefix.length + 1);
  const slash = rest.indexOf('/');
  if (slash === -1) return undefined;
  const kind = rest.slice(0, slash);
  const clientId = rest.slice(slash + 1);
  if (kind !== 'up' && kind !== 'down' && kind !== 'status') return undefined;
  if (!isValidClientId(clientId)) return undefined;
  return { kind, clientId };
}
