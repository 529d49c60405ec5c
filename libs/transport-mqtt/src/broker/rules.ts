/**
 * The topic rules of `mosquitto/acl.conf`, for the embedded broker: a device may publish only to
 * its own `up` and `status` topics and read only its own `down` topic; the bridge may read every
 * `up`/`status` topic and write every `down` topic; nothing else is allowed.
 */
import { isValidClientId, parseDeviceTopic } from '../shared/topics.ts';

/** Who is asking: a device (by client id) or the authenticated bridge. */
export type Actor =
  { readonly bridge: true } | { readonly bridge: false; readonly clientId: string };

/** The rules for one prefix. */
export interface BrokerRules {
  mayPublish(actor: Actor, topic: string): boolean;
  maySubscribe(actor: Actor, filter: string): boolean;
  /** A Last Will must be the device's own `offline` status. */
  mayWill(clientId: string, topic: string): boolean;
}

/** Builds the rules for `prefix`. */
export function brokerRules(prefix: string): BrokerRules {
  const ownTopic = (clientId: string, topic: string, kinds: readonly string[]) => {
    const parsed = parseDeviceTopic(prefix, topic);
    return parsed !== undefined && parsed.clientId === clientId && kinds.includes(parsed.kind);
  };
  const bridgeFilters = new Set([`${prefix}/up/+`, `${prefix}/status/+`]);
  return {
    mayPublish(actor, topic) {
      if (actor.bridge) return parseDeviceTopic(prefix, topic)?.kind === 'down';
      return ownTopic(actor.clientId, topic, ['up', 'status']);
    },
    maySubscribe(actor, filter) {
      if (actor.bridge) return bridgeFilters.has(filter);
      // exact topic only: a wildcard would match other devices' topics
      return ownTopic(actor.clientId, filter, ['down']);
    },
    mayWill(clientId, topic) {
      return isValidClientId(clientId) && ownTopic(clientId, topic, ['status']);
    },
  };
}
