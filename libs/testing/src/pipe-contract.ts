/**
 * The pipe-contract suite: what every transport must show at the `Pipe` level, whatever its
 * library (close codes, hard disconnects, liveness, unreadable input, slow consumers, opening
 * deadlines). The conformance suite checks the protocol over a transport; this one checks the
 * transport. Each transport's spec calls it with a few hooks:
 *
 * ```ts
 * describePipeContract({ name: 'ws', setup: async (accept) => ({ connector, raw, … }) });
 * ```
 * A hook a transport cannot offer is left out with the reason in `unsupported`, and its cases
 * are not registered (they are listed in the suite's name so the gap is visible).
 */
import { describe, expect, it } from 'vitest';
import { createHub, type Hub, type HubOptions, type HubServices } from '@switchyard/hub';
import {
  PipeClosedError,
  ConnectTimeoutError,
  type Accept,
  type CloseInfo,
  type Connector,
  type Pipe,
} from '@switchyard/protocol';
import { createSignaller, ReconnectStoppedError } from '@switchyard/signaller';
import { cleanupStack, inbox, quietFor, waitUntil, type Inbox } from '@switchyard/test-kit';
import { errorCodeOf, rawClient } from './raw-client.ts';
import { nextEvent } from './wait.ts';

/** A client of the transport that can misbehave the ways real peers do. */
export interface RawPeer extends AsyncDisposable {
  /** Text messages it received, in order. */
  readonly inbox: Inbox<string>;
  say(message: string): void;
  /** Sends one thing the server cannot read as a text message (a binary frame, non-UTF-8…). */
  sayUnreadable?(): void;
  /** Vanishes without a close handshake: the process died, the cable was pulled. */
  kill(): void | Promise<void>;
  /** Stops reading from the network, so what the server sends piles up. */
  stopReading?(): void;
  /** Whether it answers the server's liveness probe (`Pipe.isAlive`). */
  readonly answersProbes: boolean;
  /** Resolves with the close code it saw once the server closed it. */
  closed(): Promise<number | undefined>;
}

/** What a transport hands the suite, mounted on `accept`. */
export interface ContractServer extends AsyncDisposable {
  /** The transport's client half. */
  readonly connector: Connector;
  /** Opens a raw peer. */
  raw?(): Promise<RawPeer>;
  /** A client half pointed at an endpoint that never answers, giving up after `openTimeoutMs`. */
  mute?(openTimeoutMs: number): Promise<Connector & AsyncDisposable>;
}

/** The cases that need a hook of the transport. */
export type ContractCapability =
  'closeCodes' | 'hardDisconnect' | 'unreadable' | 'liveness' | 'slowConsumer' | 'openTimeout';

/**
 * Mounts a transport's server half on `accept` (`limits` are the hub options the case runs
 * with); the same setup serves the conformance suite and the pipe-contract suite.
 */
export type TransportSetup = (accept: Accept, limits: HubOptions) => Promise<ContractServer>;

/** A transport under the contract. */
export interface ContractTransport {
  readonly name: string;
  readonly setup: TransportSetup;
  /** Capabilities the transport does not have, each with the reason. */
  readonly unsupported?: Partial<Record<ContractCapability, string>>;
  /** How long a vanished client takes to be noticed on top of the grace window. @default 0 */
  readonly detectionMs?: number;
}

/** Runs the pipe-contract suite against one transport. */
export function describePipeContract(transport: ContractTransport): void {
  const unsupported = transport.unsupported ?? {};
  const gaps = Object.keys(unsupported);
  const title = `pipe contract: ${transport.name}${gaps.length ? ` (without ${gaps.join(', ')})` : ''}`;
  const can = (capability: ContractCapability) => !(capability in unsupported);

  describe(title, () => {
    /** A hub, the server half on it, and every pipe the half hands over. */
    async function mount(options: HubOptions = {}, services: HubServices = {}) {
      const stack = cleanupStack();
      const limits = { graceMs: 300, ...options };
      const hub: Hub = createHub(limits, services);
      const serverPipes = inbox<Pipe>('a server-side pipe');
      const server = await transport.setup((pipe, context) => {
        serverPipes.push(pipe);
        hub.accept(pipe, context);
      }, limits);
      stack.defer(() => hub.close());
      stack.use(server);
      return {
        hub,
        server,
        serverPipes,
        defer: stack.defer,
        use: stack.use,
        [Symbol.asyncDispose]: () => stack[Symbol.asyncDispose](),
      };
    }

    it('carries text both ways in order; close fires once on each side; send after close throws', async () => {
      await using m = await mount();
      await using client = await rawClient(m.server.connector, ['A', 'r']);
      const server = await m.serverPipes.next();
      const atServer = inbox<string>();
      server.onMessage((message) => atServer.push(message));
      for (let i = 0; i < 50; i++) client.say(`/n|A|${i}`);
      const peer = await rawClient(m.server.connector, ['B', 'r']);
      for (let i = 0; i < 50; i++) client.say(`/to|B|/m|A|${i}`);
      for (let i = 0; i < 50; i++)
        expect(await peer.next((m) => m.startsWith('/to|B|/m|'))).toBe(`/to|B|/m|A|${i}`);
      const serverCloses: CloseInfo[] = [];
      server.onClose((info) => serverCloses.push(info));
      client.pipe.close(1000, 'done');
      const info = await client.closed();
      expect(info.local).toBe(true);
      await waitUntil(() => serverCloses.length === 1, 'the server side to close');
      expect(serverCloses[0]!.local).toBe(false);
      expect(() => client.pipe.send('/late|A')).toThrow(PipeClosedError);
      expect(() => server.send('/late')).toThrow(PipeClosedError);
      await quietFor(50);
      expect(serverCloses).toHaveLength(1);
      peer.pipe.close();
    });

    it('a refusal stops the signaller: 4001 after an unauthorized announce, no reconnect', async () => {
      await using m = await mount(
        {},
        { authenticate: () => ({ ok: false, code: 'unauthorized' }) },
      );
      let opened = 0;
      m.hub.on('connection:opened', () => (opened += 1));
      const signaller = createSignaller(m.server.connector, { reconnectDelay: () => 10 });
      m.defer(() => signaller.leave());
      const stopped = nextEvent(
        signaller,
        'error',
        (error) => error instanceof ReconnectStoppedError,
      );
      signaller.announce({ room: 'r' });
      const [error] = await stopped;
      expect(error).toMatchObject({ code: 'reconnect-stopped' });
      await quietFor(150);
      expect(opened).toBe(1);
    });

    if (can('closeCodes'))
      it('a server close code and reason reach the client half (4009, and 1012 of a draining node)', async () => {
        await using m = await mount();
        for (const [code, reason] of [
          [4009, 'id taken over'],
          [1012, 'server restarting: reconnect'],
        ] as const) {
          await using client = await rawClient(m.server.connector, ['T', 'r']);
          expect(m.hub.disconnect('T', code, reason)).toBe(true);
          expect(await client.closed()).toEqual({ local: false, code, reason });
        }
      });

    if (can('hardDisconnect'))
      it('a client that vanishes becomes /leave after the grace window', async () => {
        const graceMs = 300;
        await using m = await mount({ graceMs });
        await using watcher = await rawClient(m.server.connector, ['W', 'r']);
        const victim = m.use(await m.server.raw!());
        victim.say('/announce|V|{"id":"V","room":"r"}');
        await victim.inbox.next((message) => message.startsWith('/roominfo|'));
        await watcher.next((message) => message.startsWith('/announce|V|'));
        const killedAt = Date.now();
        await victim.kill();
        await waitUntil(
          () => m.hub.stats().inGrace === 1,
          'V in its grace window',
          5000 + (transport.detectionMs ?? 0),
        );
        expect(m.hub.roomMembers('r')).toEqual(['W', 'V']);
        const leave = await watcher.next(
          (message) => message.startsWith('/leave|'),
          graceMs + (transport.detectionMs ?? 0) + 5000,
        );
        expect(leave).toBe('/leave|V|{"id":"V","reason":"disconnect"}');
        expect(Date.now() - killedAt).toBeGreaterThanOrEqual(graceMs - 5);
        expect(m.hub.roomMembers('r')).toEqual(['W']);
      });

    if (can('unreadable'))
      it('unreadable input gets /error malformed inside the rate limit; the peer keeps working', async () => {
        await using m = await mount({ rateLimit: { perSecond: 5, burst: 5 } });
        const raw = m.use(await m.server.raw!());
        raw.say('/announce|U|{"id":"U","room":"r"}');
        await raw.inbox.next((message) => message.startsWith('/roominfo|'));
        raw.sayUnreadable!();
        expect(errorCodeOf(await raw.inbox.next())).toBe('malformed');
        for (let i = 0; i < 40; i++) raw.sayUnreadable!();
        await waitUntil(() => m.hub.stats().dropped.rateLimited >= 30, 'the flood to be limited');
        await quietFor(100);
        const codes = raw.inbox.take().map(errorCodeOf);
        // the bucket had 3 tokens left: 3 answers, then one rate-limited notice for the rest
        expect(codes).toEqual(['malformed', 'malformed', 'malformed', 'rate-limited']);
        await using other = await rawClient(m.server.connector, ['O', 'r']);
        await quietFor(1100); // let the bucket refill
        raw.say('/to|O|/still|U|1');
        expect(await other.next((message) => message.startsWith('/to|O|'))).toBe(
          '/to|O|/still|U|1',
        );
      });

    if (can('liveness'))
      it('liveness: a client half that answers keeps its id; a silent holder is replaced (4009)', async () => {
        await using m = await mount({ livenessTimeoutMs: 300 });
        await using holder = await rawClient(m.server.connector, ['L', 'r']);
        await using thief = await rawClient(m.server.connector);
        thief.say('/announce|L|{"id":"L","room":"r"}');
        expect(errorCodeOf(await thief.next())).toBe('id-taken');
        expect(holder.closeInfo).toBeUndefined();
        const silent = m.use(await m.server.raw!());
        expect(silent.answersProbes).toBe(false);
        silent.say('/announce|S|{"id":"S","room":"r"}');
        await silent.inbox.next((message) => message.startsWith('/roominfo|'));
        await using claimer = await rawClient(m.server.connector);
        claimer.say('/announce|S|{"id":"S","room":"r"}');
        expect(await claimer.next((message) => message.startsWith('/roominfo|'))).toBe(
          '/roominfo|{"memberCount":2}',
        );
        expect(
          errorCodeOf(await silent.inbox.next((message) => message.startsWith('/error|'))),
        ).toBe('id-taken');
        expect(await silent.closed()).toBe(4009);
      });

    if (can('slowConsumer'))
      it('a reader that stops reading is closed as a slow consumer (4008); others are not', async () => {
        await using m = await mount({ rateLimit: false, highWaterMark: 256 * 1024 });
        const reader = m.use(await m.server.raw!());
        reader.say('/announce|R|{"id":"R","room":"r"}');
        await reader.inbox.next((message) => message.startsWith('/roominfo|'));
        await using writer = await rawClient(m.server.connector, ['W', 'r']);
        const chunk = 'x'.repeat(16 * 1024);
        // a reader that reads may receive far more than the high-water mark in total
        for (let i = 0; i < 40; i++) {
          writer.say(`/to|R|/bulk|W|${chunk}`);
          await reader.inbox.next((message) => message.startsWith('/to|R|/bulk'));
        }
        expect(m.hub.stats().closed.slowConsumer).toBe(0);
        reader.stopReading!();
        let closedWith: number | undefined;
        void reader.closed().then((code) => (closedWith = code));
        // the hub closes it (a paused reader may not see the close for a while), or the
        // transport's own bounded buffer does and the reader is told 4008
        const closedAsSlow = () => m.hub.stats().closed.slowConsumer === 1 || closedWith === 4008;
        for (let sent = 0; sent < 4000 && !closedAsSlow(); sent++) {
          writer.say(`/to|R|/bulk|W|${chunk}`);
          if (sent % 50 === 49) await new Promise((resolve) => setImmediate(resolve));
        }
        await waitUntil(closedAsSlow, 'R closed as a slow consumer');
        expect(writer.closeInfo).toBeUndefined();
        expect(m.hub.roomMembers('r')).toContain('W');
        // the connection is let go within seconds, not after a close handshake the reader
        // never answers; then the grace window runs and R leaves
        await waitUntil(
          () => m.hub.stats().connections === 1 && !m.hub.roomMembers('r').includes('R'),
          "the slow reader's connection released and R gone from the room",
          3000,
        );
      });

    if (can('openTimeout'))
      it('opening gives up after openTimeoutMs (TimeoutError) and at once when aborted (AbortError)', async () => {
        await using m = await mount();
        await using mute = await m.server.mute!(200);
        const startedAt = Date.now();
        const timedOut = await mute({}).catch((error: unknown) => error);
        expect(timedOut).toBeInstanceOf(ConnectTimeoutError);
        expect(timedOut).toMatchObject({ name: 'TimeoutError' });
        expect(Date.now() - startedAt).toBeGreaterThanOrEqual(190);
        const controller = new AbortController();
        const opening = mute({ signal: controller.signal });
        setTimeout(() => controller.abort(), 20);
        await expect(opening).rejects.toMatchObject({ name: 'AbortError' });
        await expect(mute({ signal: AbortSignal.abort() })).rejects.toMatchObject({
          name: 'AbortError',
        });
      });
  });
}
