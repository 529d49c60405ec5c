/**
 * The embedded broker's device policy (docs/transports/mqtt.md, "Access control"), as aedes
 * hooks: who may connect as what, what each may publish and subscribe to, and what the broker
 * says on a device's behalf when its connection ends.
 */
import { timingSafeEqual } from 'node:crypto';
import type { Aedes, AuthenticateError, Client } from 'aedes';
import { verifyToken, type TokenAuthority } from '@switchyard/protocol';
import { isValidClientId, Status } from '../shared/topics.ts';
import type { DeviceCredentials } from './broker.ts';
import { brokerRules, type Actor } from './rules.ts';

/** What the policy needs to know. */
export interface DevicePolicyOptions {
  readonly prefix: string;
  readonly bridgeUsername: string;
  readonly secret: Buffer;
  readonly authenticateDevice?: (device: DeviceCredentials) => boolean | Promise<boolean>;
  /** Devices must present a valid token as their password (docs/protocol.md §4.7). */
  readonly tokens?: TokenAuthority;
}

/** What the policy admitted: bridge clients, and each device's token and principal. */
export interface DevicePolicy {
  readonly bridges: WeakSet<Client>;
  /** The token a live device connected with, for the bridge to hand the hub. */
  tokenOf(clientId: string): string | undefined;
}

type ReturnCode = 2 | 4 | 5; // identifier rejected, bad user name or password, not authorised

function refusal(returnCode: ReturnCode, message: string): AuthenticateError {
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

function sameSecret(given: Buffer | undefined, expected: Buffer): boolean {
  return (
    given !== undefined && given.length === expected.length && timingSafeEqual(given, expected)
  );
}

const BRIDGE: Actor = { bridge: true };

/** Installs the policy on `aedes`. */
export function applyDevicePolicy(aedes: Aedes, options: DevicePolicyOptions): DevicePolicy {
  const { prefix, bridgeUsername, secret } = options;
  const rules = brokerRules(prefix);
  const bridges = new WeakSet<Client>();
  // verdicts of preConnect (which sees the CONNECT packet) for authenticate (which answers it)
  const refused = new WeakMap<Client, AuthenticateError>();
  const actor = (client: Client): Actor =>
    bridges.has(client) ? BRIDGE : { bridge: false, clientId: client.id };

  /** Connected devices by client id (a device holds its id until its connection ends). */
  const live = new Map<string, Client>();
  /** Tokens (and their principals) of admitted devices, by client; a WeakMap follows the client. */
  const admitted = new WeakMap<Client, { token: string; principal: string }>();
  aedes.on('client', (client) => live.set(client.id, client));
  aedes.on('clientDisconnect', (client) => {
    if (live.get(client.id) === client) live.delete(client.id);
    // a Last Will on the device's behalf: without one (or with a clean DISCONNECT but no
    // /leave) the bridge would never learn the device is gone, and it would stay a member
    if (bridges.has(client) || !isValidClientId(client.id)) return;
    const topic = `${prefix}/status/${client.id}`;
    aedes.publish(
      {
        cmd: 'publish',
        topic,
        payload: Buffer.from(Status.offline),
        qos: 1,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  });
  aedes.preConnect = (client, packet, callback) => {
    if (!isValidClientId(packet.clientId)) {
      refused.set(client, refusal(2, 'a client id must be one topic level without wildcards'));
    } else if (packet.will && !rules.mayWill(packet.clientId, packet.will.topic)) {
      refused.set(client, refusal(5, 'a Last Will must go to the device’s own status topic'));
    } else if (packet.will) {
      packet.will.retain = false; // see authorizePublish
    }
    callback(null, true);
  };
  aedes.authenticate = (client, username, password, done) => {
    const refusedWith = refused.get(client);
    if (refusedWith) return done(refusedWith, false);
    if (username === bridgeUsername) {
      if (!sameSecret(password, secret)) return done(refusal(4, 'bad bridge credentials'), false);
      bridges.add(client);
      return done(null, true);
    }
    if (client.id === bridgeUsername) return done(refusal(5, 'this client id is reserved'), false);
    // MQTT lets a second CONNECT with a client id take the first's session; the topic rules
    // trust client ids, so without credentials that would hand a live device to anyone
    const holder = live.get(client.id);
    const held = holder !== undefined && holder !== client && !holder.closed;
    if (options.tokens) {
      const token = password?.toString();
      // without a token the device may still connect: its announce must then carry one (§4.7)
      if (!token)
        return done(held ? refusal(2, 'a live device holds this client id') : null, !held);
      return void Promise.resolve(verifyToken(options.tokens, token)).then((verdict) => {
        if (!verdict.ok) return done(refusal(5, `not authorised: ${verdict.reason}`), false);
        // a live client id passes only to the same principal (docs/protocol.md §4.3)
        if (held && admitted.get(holder)?.principal !== verdict.grant.principal)
          return done(refusal(2, 'a live device of another principal holds this client id'), false);
        admitted.set(client, { token, principal: verdict.grant.principal });
        done(null, true);
      });
    }
    if (!options.authenticateDevice) {
      if (held) return done(refusal(2, 'a live device holds this client id'), false);
      return done(null, true);
    }
    Promise.resolve(
      options.authenticateDevice({
        clientId: client.id,
        ...(username !== undefined && { username }),
        ...(password !== undefined && { password: password.toString() }),
      }),
    ).then(
      (ok) => done(ok ? null : refusal(5, 'device not authorised'), ok),
      () => done(refusal(5, 'device not authorised'), false),
    );
  };
  aedes.authorizePublish = (client, packet, callback) => {
    // no client: a Will of a session already gone; Wills were checked at CONNECT
    const allowed = client ? rules.mayPublish(actor(client), packet.topic) : true;
    // signalling has no use for retained messages, and each would outlive its device in memory
    if (allowed) packet.retain = false;
    // aedes then disconnects the client: MQTT 3.1.1 has no negative acknowledgement
    callback(allowed ? null : new Error(`not authorised to publish to ${packet.topic}`));
  };
  aedes.authorizeSubscribe = (client, subscription, callback) => {
    // null negates the subscription: the SUBACK carries 0x80
    callback(null, rules.maySubscribe(actor(client), subscription.topic) ? subscription : null);
  };

  return {
    bridges,
    tokenOf: (clientId) => {
      const client = live.get(clientId);
      return client && admitted.get(client)?.token;
    },
  };
}
