/**
 * The signalling client (PROTOCOL §5): rtc-signaller 6.x API and events over any `Connector`,
 * with reconnect (backoff + jitter), re-announce first, then the bounded offline queue.
 */
import {
  CloseCode,
  createEmitter,
  decodeField,
  encodeMessage,
  errorFromPayload,
  readSender,
  senderField,
  splitFields,
  stringifyJson,
  type Pipe,
  type Connector,
  type RoomInfo,
} from '@switchyard/protocol';
import { defaultAttributes, generateId } from './environment.ts';
import type {
  PeerData,
  PeerRecord,
  Signaller,
  SignallerEvents,
  SignallerOptions,
} from './types.ts';

/** Exponential backoff from 100 ms to 10 s with ±50% jitter, so reconnect storms spread out. */
export function defaultReconnectDelay(attempt: number): number {
  const base = Math.min(10_000, 100 * 2 ** attempt);
  return base / 2 + Math.random() * base;
}

/** Close codes after which reconnecting would only repeat the refusal. */
const FINAL_CLOSE_CODES = new Set<number>([
  CloseCode.unauthorized,
  CloseCode.forbidden,
  CloseCode.idTaken,
]);
/** The same refusals as `/error` codes, for transports that carry no close code (data channels). */
const FINAL_ERROR_CODES = new Set<string>(['unauthorized', 'id-taken']);

/**
 * Creates a signaller.
 *
 * @example
 * ```ts
 * const signaller = createSignaller(webSocketConnector('http://127.0.0.1:3000'));
 * signaller.on('peer:announce', (data) => console.log('peer', data.id));
 * signaller.announce({ room: 'demo' });
 * ```
 */
export function createSignaller(connector: Connector, options: SignallerOptions = {}): Signaller {
  const id = options.id ?? generateId();
  const myId = String(id);
  const dialect = options.metadata ?? 'json';
  const me = senderField(myId, dialect);
  const announceDelay = options.announceDelay ?? 10;
  const autoreply = options.autoreply ?? true;
  const reconnect = options.reconnect ?? true;
  const reconnectDelay = options.reconnectDelay ?? defaultReconnectDelay;
  const queueLimit = options.queueLimit ?? 1000;

  const events = createEmitter<SignallerEvents>();
  const peers = new Map<string, PeerRecord>();
  const attributes: Record<string, unknown> = { ...defaultAttributes(), id };
  const queue: string[] = [];
  let state: Signaller['readyState'] = 'disconnected';
  let pipe: Pipe | undefined;
  let attempt = 0;
  let attempted = false;
  let announced = false;
  let announceTimer: ReturnType<typeof setTimeout> | undefined;
  let reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  let abort: AbortController | undefined;
  /** Set by an `/error` that makes reconnecting pointless; cleared on each new connection. */
  let refusal: string | undefined;

  // ---- outbound ------------------------------------------------------------------------------

  function write(message: string): void {
    if (pipe && state === 'connected') {
      try {
        pipe.send(message);
        return;
      } catch {
        // closed under us: keep it for the next connection
      }
    }
    if (state === 'closed') return;
    if (queue.length >= queueLimit) {
      queue.shift();
      events.emit(
        'error',
        new Error(`offline queue full (${queueLimit}): dropped the oldest message`),
      );
    }
    queue.push(message);
    if (state === 'disconnected' && attempted && reconnectTimer === undefined) void connect();
  }

  const announceMessage = () => `/announce|${me}|${stringifyJson(attributes)}`;

  function sendAnnounce(): void {
    announceTimer = undefined;
    announced = true;
    events.emit('local:announce', { ...attributes } as PeerData);
    if (pipe && state === 'connected') write(announceMessage());
    else if (state !== 'closed' && attempted && reconnectTimer === undefined) void connect();
  }

  // ---- inbound -------------------------------------------------------------------------------

  function receive(message: string): void {
    if (message.startsWith('primus')) return;
    let body = message;
    let isDM = false;
    if (message.startsWith('/to|')) {
      const targetEnd = message.indexOf('|', 4);
      // whole-field comparison: a prefix of another id never matches (reference Q8)
      if (targetEnd === -1 || message.slice(4, targetEnd) !== myId) return;
      body = message.slice(targetEnd + 1);
      isDM = true;
    }
    events.emit('rawdata', message);
    const raw = splitFields(body);
    const command = raw[0]!;
    if (command === '/roominfo' || command === '/error') {
      const payload = decodeField(raw[1] ?? '');
      if (command === '/roominfo') events.emit('roominfo', payload as RoomInfo);
      else {
        const error = errorFromPayload(payload);
        if (FINAL_ERROR_CODES.has(error.code)) refusal = error.code;
        events.emit('error', error);
      }
      events.emit(`message:${command.slice(1)}`, payload, message);
      return;
    }
    if (typeof decodeField(command) !== 'string') return;
    const senderId = raw.length > 1 ? readSender(raw[1]!).id : undefined;
    if (senderId === myId) return;
    const payload = raw.slice(2).map(decodeField);
    const source = (senderId !== undefined && peers.get(senderId)) || senderId;
    if (!command.startsWith('/')) {
      events.emit('data', [command, ...payload], senderId, source, isDM);
      return;
    }
    const name = command.slice(1);
    if (name === 'announce') return receiveAnnounce(payload[0], senderId, isDM);
    events.emit(`message:${name}`, ...payload, source, message);
    if (name === 'leave' && senderId !== undefined) {
      const peer = peers.get(senderId);
      if (peer) {
        peers.delete(senderId);
        events.emit('peer:leave', senderId, peer);
      }
    }
  }

  function receiveAnnounce(data: unknown, senderId: string | undefined, isDM: boolean): void {
    if (data === null || typeof data !== 'object') return;
    const peerData = data as PeerData;
    if (peerData.id === undefined || peerData.id === null) return;
    const peerId = String(peerData.id);
    if (peerId === myId) return;
    const filter = { allow: true, ...peerData };
    events.emit('peer:filter', peerId, filter);
    if (!filter.allow) return;
    events.emit('peer:connected', peerId, peerData);
    const known = peers.get(peerId);
    if (known) {
      known.data = { ...known.data, ...peerData };
      events.emit('peer:update', peerData, senderId ?? peerId);
      return;
    }
    const record: PeerRecord = {
      id: peerId,
      roleIdx: [peerId, myId].sort().indexOf(peerId),
      data: { ...peerData },
    };
    peers.set(peerId, record);
    // announces that arrive inside /to are replies: answering them would loop
    if (autoreply && !isDM) write(`/to|${peerId}|${announceMessage()}`);
    events.emit('peer:announce', peerData, record);
  }

  // ---- connection ----------------------------------------------------------------------------

  async function connect(): Promise<void> {
    if (state !== 'disconnected') return;
    if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
    reconnectTimer = undefined;
    state = 'connecting';
    attempted = true;
    abort = new AbortController();
    let opened: Pipe;
    try {
      opened = await connector({ signal: abort.signal });
    } catch (error) {
      if ((state as Signaller['readyState']) === 'closed') return;
      state = 'disconnected';
      events.emit('error', error instanceof Error ? error : new Error(String(error)));
      scheduleReconnect();
      return;
    }
    if ((state as Signaller['readyState']) === 'closed') {
      opened.close(CloseCode.normal, 'closed while connecting');
      return;
    }
    pipe = opened;
    refusal = undefined;
    state = 'connected';
    attempt = 0;
    opened.onMessage(receive);
    opened.onClose((info) => {
      if (pipe !== opened) return;
      pipe = undefined;
      const ended = state === 'closed';
      if (!ended) state = 'disconnected';
      events.emit('disconnected');
      if (ended) return;
      const finalCode = info.code !== undefined && FINAL_CLOSE_CODES.has(info.code);
      if (finalCode || refusal !== undefined) {
        const why = finalCode ? `${info.code} ${info.reason ?? ''}`.trim() : refusal;
        events.emit('error', new Error(`server closed the connection (${why}); not reconnecting`));
        return;
      }
      if (reconnect) scheduleReconnect();
    });
    events.emit('connected');
    // re-announce first, so that the queued messages find us in the room (reference Q16)
    if (announced && announceTimer === undefined) write(announceMessage());
    while (queue.length > 0) {
      try {
        opened.send(queue[0]!);
      } catch {
        break; // closed again: the rest waits for the next connection
      }
      queue.shift();
    }
  }

  function scheduleReconnect(): void {
    if (!reconnect || state !== 'disconnected' || reconnectTimer !== undefined) return;
    const delay = reconnectDelay(attempt++);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      void connect();
    }, delay);
  }

  function leave(): void {
    if (state === 'closed') return;
    if (announceTimer !== undefined) clearTimeout(announceTimer);
    if (reconnectTimer !== undefined) clearTimeout(reconnectTimer);
    announceTimer = reconnectTimer = undefined;
    const open = pipe;
    if (open && state === 'connected') {
      try {
        open.send(`/leave|${me}|${stringifyJson({ id: myId })}`);
      } catch {
        // already closing
      }
    }
    state = 'closed';
    queue.length = 0;
    abort?.abort();
    if (open) open.close(CloseCode.normal, 'leave');
  }

  const signaller: Signaller = {
    id,
    attributes: attributes as PeerData,
    peers,
    get readyState() {
      return state;
    },
    on: events.on,
    once: events.once,
    off: events.off,
    listenerCount: events.listenerCount,
    announce(data = {}) {
      Object.assign(attributes, data, { id });
      if (announceTimer !== undefined) clearTimeout(announceTimer);
      announceTimer = setTimeout(sendAnnounce, announceDelay);
    },
    send(command, ...args) {
      write(encodeMessage([command, me, ...args]));
    },
    to(target) {
      return {
        send: (command, ...args) =>
          write(`/to|${String(target)}|${encodeMessage([command, me, ...args])}`),
      };
    },
    leave,
    close: leave,
    isMaster(peerId) {
      if (!peers.has(String(peerId))) return undefined;
      return myId < String(peerId);
    },
    connect,
  };
  if (options.autoconnect ?? true) void connect();
  return signaller;
}
