/**
 * The authentication suite (docs/protocol.md §4.7): every outcome of token authentication, seen
 * through one transport's client and server halves with real JWTs. Every transport runs it:
 *
 * ```ts
 * describeAuthentication({ name: 'ws', setup: async (accept, tokens) => ({ connector, … }) });
 * ```
 */
import { exportJWK, generateKeyPair, type JWK, type JWTPayload } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createJwtAuthority, type JwtAuthorityOptions } from '@switchyard/auth';
import { createHub, type Hub } from '@switchyard/hub';
import {
  ForbiddenError,
  UnauthorizedError,
  type Accept,
  type Connector,
  type TokenAuthority,
  type TokenSource,
} from '@switchyard/protocol';
import { createSignaller, type Signaller, type SignallerError } from '@switchyard/signaller';
import {
  cleanupStack,
  listenHttp,
  mintToken,
  TEST_JWT_SECRET,
  waitUntil,
  type CleanupStack,
} from '@switchyard/test-kit';
import { errorCodeOf, rawClient, type RawClient } from './raw-client.ts';

/** A transport's server half mounted for the suite. */
export interface AuthServer extends AsyncDisposable {
  /** A connector; given `token`, it sends it the transport's own way at connect time. */
  connector(token?: TokenSource): Connector;
}

/** A transport under the suite. */
export interface AuthTransport {
  readonly name: string;
  /** Mounts the server half on `accept`; halves that refuse before the hub get `tokens`. */
  setup(accept: Accept, tokens: TokenAuthority): Promise<AuthServer>;
  /** Why this transport carries no connect-time token (its tokens go in the announce). */
  readonly noConnectTimeToken?: string;
}

const seconds = (fromNow: number) => Math.floor(Date.now() / 1000) + fromNow;
const codeOf = (error: SignallerError) => (error as { code?: unknown }).code;

/** Runs the authentication suite against one transport. */
export function describeAuthentication(transport: AuthTransport): void {
  const connectTime = transport.noConnectTimeToken === undefined;
  const title = `authentication: ${transport.name}${connectTime ? '' : ' (announce tokens only)'}`;

  describe(title, () => {
    let stack: CleanupStack;
    afterEach(async () => stack?.[Symbol.asyncDispose]());

    async function mount(options: Partial<JwtAuthorityOptions> = {}) {
      stack = cleanupStack();
      const tokens = createJwtAuthority({
        secret: TEST_JWT_SECRET,
        clockToleranceSeconds: 0,
        ...options,
      } as JwtAuthorityOptions);
      const hub: Hub = createHub({ graceMs: 200 }, { tokens });
      const server = await transport.setup(hub.accept, tokens);
      stack.defer(() => hub.close());
      stack.use(server);
      return { hub, server, tokens };
    }

    function signaller(connector: Connector, token?: TokenSource) {
      const peer: Signaller = createSignaller(connector, {
        reconnectDelay: () => 50,
        ...(token !== undefined && { token }),
      });
      const errors: SignallerError[] = [];
      peer.on('error', (error) => errors.push(error));
      stack.defer(() => peer.leave());
      return { peer, errors };
    }

    /** A raw member with an announce token: it sees every frame the room gets. */
    async function spy(server: AuthServer, room: string): Promise<RawClient> {
      const client = await rawClient(server.connector());
      stack.defer(() => client[Symbol.asyncDispose]());
      const token = await mintToken({ sub: 'spy' });
      client.say(`/announce|{"id":"spy"}|${JSON.stringify({ id: 'spy', room, token })}`);
      await client.next((message) => message.startsWith('/roominfo|'));
      return client;
    }

    const joined = (hub: Hub, room: string, id: string) =>
      waitUntil(() => hub.roomMembers(room).includes(id) || undefined, `${id} in ${room}`);

    // transports without connect-time tokens do not register these cases (see the title)
    const itConnectTime = connectTime ? it : () => undefined;

    itConnectTime('admits a connect-time token; no token reaches the room', async () => {
      const { hub, server } = await mount();
      const watcher = await spy(server, 'r');
      const token = await mintToken({ sub: 'alice', rooms: ['r'] });
      const { peer, errors } = signaller(server.connector(token));
      peer.announce({ room: 'r' });
      await joined(hub, 'r', String(peer.id));
      peer.send('/chat', 'hello');
      await watcher.next((message) => message.startsWith('/chat|'));
      expect(watcher.received.join('\n')).not.toContain(token);
      expect(errors).toEqual([]);
    });

    it('admits an announce token (the original rtc-signaller way) and strips it', async () => {
      const { hub, server } = await mount();
      const watcher = await spy(server, 'r');
      const token = await mintToken({ sub: 'bob' });
      const { peer } = signaller(server.connector(), token);
      peer.announce({ room: 'r' });
      await joined(hub, 'r', String(peer.id));
      const relayed = await watcher.next((message) => message.startsWith('/announce|'));
      expect(relayed).not.toContain('token');
    });

    it('refuses a connection without a token with unauthorized, and the signaller stops', async () => {
      const { hub, server } = await mount();
      const { peer, errors } = signaller(server.connector());
      peer.announce({ room: 'r' });
      await waitUntil(() => errors.find((e) => codeOf(e) === 'reconnect-stopped'), 'a stop');
      expect(errors[0]).toBeInstanceOf(UnauthorizedError);
      expect(hub.roomMembers('r')).toEqual([]);
    });

    itConnectTime('refuses an invalid connect-time token before anything is read', async () => {
      const { hub, server } = await mount();
      const forged = await mintToken({ sub: 'mallory' }, { secret: 'x'.repeat(40) });
      const { peer, errors } = signaller(server.connector(forged));
      peer.announce({ room: 'r' });
      await waitUntil(() => errors.find((e) => codeOf(e) === 'reconnect-stopped'), 'a stop');
      expect(errors[0]).toBeInstanceOf(UnauthorizedError);
      expect(hub.stats().members).toBe(0);
    });

    it('answers a room the token does not allow with forbidden; the connection stays', async () => {
      const { hub, server } = await mount();
      const token = await mintToken({ sub: 'carol', rooms: ['team-*'] });
      const { peer, errors } = signaller(server.connector(), token);
      peer.announce({ room: 'boardroom' });
      await waitUntil(() => errors[0], 'a refusal');
      expect(errors[0]).toBeInstanceOf(ForbiddenError);
      peer.announce({ room: 'team-red' });
      await joined(hub, 'team-red', String(peer.id));
      expect(peer.readyState).toBe('connected');
      expect(errors).toHaveLength(1);
    });

    it('closes at exp with 4001, unless a token provider renewed it with a re-announce', async () => {
      const { hub, server } = await mount();
      const watcher = await spy(server, 'r');
      const fixed = signaller(server.connector(), await mintToken({ sub: 'dan', exp: seconds(2) }));
      let issued = 0;
      const renewing = signaller(server.connector(), () => {
        issued += 1;
        return mintToken({ sub: 'erin', exp: seconds(2), n: issued });
      });
      fixed.peer.announce({ room: 'r' });
      renewing.peer.announce({ room: 'r' });
      await joined(hub, 'r', String(fixed.peer.id));
      await joined(hub, 'r', String(renewing.peer.id));
      await waitUntil(
        () => fixed.errors.find((e) => codeOf(e) === 'reconnect-stopped'),
        'the expired peer to stop',
        5000,
      );
      expect(fixed.errors[0]).toBeInstanceOf(UnauthorizedError);
      // the fourth token renews the third, which replaced the second before it expired
      await waitUntil(() => issued >= 4 || undefined, 'two renewals', 6000);
      expect(hub.roomMembers('r')).toContain(String(renewing.peer.id));
      expect(renewing.peer.readyState).toBe('connected');
      expect(renewing.errors).toEqual([]);
      expect(watcher.received.join('\n')).not.toMatch(/token/);
    });

    it('checks per-message sender tokens against the principal and never relays them', async () => {
      const { hub, server } = await mount();
      const watcher = await spy(server, 'r');
      const own = await mintToken({ sub: 'frank' });
      const other = await mintToken({ sub: 'grace' });
      const raw = await rawClient(server.connector());
      stack.defer(() => raw[Symbol.asyncDispose]());
      raw.say(`/announce|{"id":"F"}|${JSON.stringify({ id: 'F', room: 'r', token: own })}`);
      await raw.next((message) => message.startsWith('/roominfo|'));
      raw.say(`/chat|${JSON.stringify({ id: 'F', token: own })}|signed`);
      raw.say(`/chat|${JSON.stringify({ id: 'F', token: other })}|forged`);
      raw.say('/chat|{"id":"F"}|plain');
      expect(errorCodeOf(await raw.next((m) => m.startsWith('/error|')))).toBe('unauthorized');
      await watcher.next((message) => message.endsWith('|plain'));
      const chats = watcher.received.filter((message) => message.startsWith('/chat|'));
      expect(chats).toEqual(['/chat|{"id":"F"}|signed', '/chat|{"id":"F"}|plain']);
      expect(watcher.received.join('\n')).not.toContain(own);
      expect(hub.roomMembers('r')).toContain('F');
    });

    it('admits a token signed by a key rotated into the JWKS, and a clock 3 s ahead', async () => {
      const old = await generateKeyPair('ES256', { extractable: true });
      const fresh = await generateKeyPair('ES256', { extractable: true });
      const jwk = async (key: CryptoKey, kid: string): Promise<JWK> => ({
        ...(await exportJWK(key)),
        kid,
      });
      let keys = [await jwk(old.publicKey, 'old')];
      const jwks = await listenHttp((_request, response) => {
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ keys }));
      });
      const { hub, server } = await mount({
        secret: undefined,
        jwks: jwks.url('/jwks.json'),
        jwksCooldownMs: 0,
        clockToleranceSeconds: 5,
      });
      stack.defer(() => jwks.close());
      const sign = (claims: JWTPayload, key: CryptoKey, kid: string) =>
        mintToken(claims, { key, kid, alg: 'ES256' });
      const before = signaller(server.connector(), await sign({ sub: 'h' }, old.privateKey, 'old'));
      before.peer.announce({ room: 'r' });
      await joined(hub, 'r', String(before.peer.id));
      keys = [await jwk(old.publicKey, 'old'), await jwk(fresh.publicKey, 'new')];
      // issued by a server whose clock runs 3 s ahead: nbf is in our future
      const skewed = await sign(
        { sub: 'i', nbf: seconds(3), iat: seconds(3) },
        fresh.privateKey,
        'new',
      );
      const after = signaller(server.connector(), skewed);
      after.peer.announce({ room: 'r' });
      await joined(hub, 'r', String(after.peer.id));
      expect(after.errors).toEqual([]);
    });
  });
}
