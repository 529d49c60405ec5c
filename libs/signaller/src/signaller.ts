/**
 * The signalling client (docs/protocol.md §5): rtc-signaller 6.x API and events over any `Connector`.
 * This file composes the parts: outbound writes and the offline queue, the announce debounce,
 * inbound dispatch (`inbound.ts`) and the connect/reconnect state machine (`connection.ts`).
 */
import {
  announceMessage,
  createEmitter,
  debugLogger,
  encodeMessage,
  leaveMessage,
  senderField,
  systemClock,
  toMessage,
  type Connector,
  type Emitter,
  type Pipe,
} from '@switchyard/protocol';
import { createConnection, defaultReconnectDelay } from './connection.ts';
import { defaultAttributes, generateId } from './environment.ts';
import { createReceiver } from './inbound.ts';
import { createOfflineQueue } from './offline-queue.ts';
import { createOneShotTimer } from './one-shot-timer.ts';
import { createTokenKeeper } from './token-keeper.ts';
import type {
  MessageMap,
  NoMessages,
  PeerData,
  PeerRecord,
  Send,
  Signaller,
  SignallerEvents,
  SignallerOptions,
  SignallerServices,
} from './types.ts';

/**
 * Creates a signaller. Configuration goes in `options`; the clock and logger it runs on in
 * `services`, so that tests can drive time with a manual clock.
 *
 * @example
 * ```ts
 * const signaller = createSignaller(webSocketConnector('http://127.0.0.1:3000'));
 * signaller.on('peer:announce', (data) => console.log('peer', data.id));
 * signaller.announce({ room: 'demo' });
 * ```
 */
export function createSignaller<Messages extends MessageMap = NoMessages>(
  connector: Connector,
  options: SignallerOptions = {},
  services: SignallerServices = {},
): Signaller<Messages> {
  const id = options.id ?? generateId();
  const myId = String(id);
  const dialect = options.metadata ?? 'json';
  const me = senderField(myId, dialect);
  const announceDelay = options.announceDelay ?? 10;
  const clock = services.clock ?? systemClock;
  const log = services.log ?? debugLogger('switchyard:signaller');

  const events = createEmitter<SignallerEvents>();
  const peers = new Map<string, PeerRecord>();
  const attributes: Record<string, unknown> = { ...defaultAttributes(), id };
  const announceTimer = createOneShotTimer(clock);
  /** Whether anything was announced: each new connection then re-announces first. */
  let announced = false;
  const queue = createOfflineQueue(options.queueLimit ?? 1000, (error) => {
    log('warn', error.message, { limit: error.limit });
    events.emit('error', error);
  });

  // a renewal re-announces only when the provider gave a new token: the same one again would
  // re-announce on every renewal for nothing
  const token = createTokenKeeper(options.token, clock, () => {
    if (connection.state !== 'connected') return;
    token.refresh().then(
      (changed) => {
        if (changed && connection.state === 'connected') write(announceFrame());
      },
      (error: unknown) => tokenFailed(error),
    );
  });
  /** A renewable token is fetched afresh before every connect. */
  const connect: Connector = token.renewable
    ? async (open) => {
        await token.refresh();
        return connector(open);
      }
    : connector;

  const connection = createConnection({
    connector: connect,
    clock,
    log,
    reconnect: options.reconnect ?? true,
    reconnectDelay: options.reconnectDelay ?? defaultReconnectDelay,
    events,
    onMessage: createReceiver({
      myId,
      events,
      peers,
      autoreply: options.autoreply ?? true,
      announceFrame,
      write,
      onServerError: (error) => connection.noteServerError(error),
    }),
    onOpen,
  });

  /** The announce on the wire: the attributes and, if there is one, the token (§4.7). */
  function announceFrame(): string {
    const current = token.current;
    return announceMessage(
      me,
      current === undefined ? attributes : { ...attributes, token: current },
    );
  }

  /** Sends now if connected, else queues for the next connection (and asks for one). */
  function write(frame: string): void {
    if (connection.trySend(frame)) return;
    if (connection.state === 'closed') return;
    queue.push(frame);
    connection.connectOnDemand();
  }

  function onOpen(pipe: Pipe): void {
    // re-announce first, so that the queued messages find us in the room (docs/conformance.md Q16);
    // an announce still in its debounce window goes out when the window ends instead
    if (announced && !announceTimer.pending) write(announceFrame());
    queue.flush((frame) => pipe.send(frame));
  }

  function sendAnnounce(): void {
    announced = true;
    events.emit('local:announce', { ...attributes } as PeerData);
    // offline, the announce is not queued: the next connection re-announces the latest attributes
    if (connection.state !== 'connected') return connection.connectOnDemand();
    if (!token.renewable) return write(announceFrame());
    token.refresh().then(
      () => {
        if (connection.state === 'connected') write(announceFrame());
      },
      (error: unknown) => tokenFailed(error),
    );
  }

  function tokenFailed(error: unknown): void {
    log('warn', 'the token provider failed', { error: String(error) });
    events.emit('error', error instanceof Error ? error : new Error(String(error)));
  }

  // a tab that closes says goodbye: otherwise the room waits out the grace window, as for a crash
  const page = (options.leaveOnPageHide ?? true) ? pageEvents() : undefined;
  const onPageHide = () => leave();
  page?.addEventListener('pagehide', onPageHide);

  function leave(): void {
    page?.removeEventListener('pagehide', onPageHide);
    if (connection.state === 'closed') return;
    announceTimer.cancel();
    token.stop();
    connection.close(leaveMessage(myId, dialect));
    queue.clear();
  }

  // the listener types differ per message map; at run time every map is the same emitter
  const typedEvents = events as unknown as Emitter<SignallerEvents<Messages>>;
  const signaller: Signaller<Messages> = {
    id: myId,
    attributes: attributes as PeerData,
    peers,
    get readyState() {
      return connection.state;
    },
    on: typedEvents.on,
    once: typedEvents.once,
    off: typedEvents.off,
    listenerCount: typedEvents.listenerCount,
    announce(data = {}) {
      Object.assign(attributes, data, { id });
      announceTimer.start(announceDelay, sendAnnounce);
    },
    send: ((command: string, ...args: unknown[]) =>
      write(encodeMessage([command, me, ...args]))) as Send<Messages>,
    to(target) {
      return {
        send: ((command: string, ...args: unknown[]) =>
          write(
            toMessage(String(target), encodeMessage([command, me, ...args])),
          )) as Send<Messages>,
      };
    },
    leave,
    close: leave,
    isMaster(peerId) {
      if (!peers.has(String(peerId))) return undefined;
      return myId < String(peerId);
    },
    connect: () => connection.connect(),
  };
  if (options.autoconnect ?? true) void connection.connect();
  return signaller;
}

/** The page's event target in a browser (a window, not a worker or Node), else undefined. */
function pageEvents(): Pick<EventTarget, 'addEventListener' | 'removeEventListener'> | undefined {
  const scope = globalThis as { window?: unknown; addEventListener?: unknown };
  return scope.window === globalThis && typeof scope.addEventListener === 'function'
    ? (globalThis as unknown as EventTarget)
    : undefined;
}
