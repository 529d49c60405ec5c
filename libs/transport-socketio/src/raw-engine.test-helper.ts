/**
 * A hand-driven Socket.IO client over one Engine.IO v4 WebSocket, for wire-level tests and as
 * the pipe-contract `RawPeer`. Like an original `rtc-signaller-socket.io` client it never
 * acknowledges `rtc-probe`; it can also stay silent on pings, vanish without a Socket.IO
 * disconnect packet or stop reading.
 */
import { WebSocket } from 'ws';
import { inbox, waitUntil, type Inbox, type RawPeer } from '@switchyard/testing';
import { CLOSE_EVENT, SIGNAL_EVENT } from './events.ts';

/** One received Socket.IO packet: an event (with the ack id when the server asked for one) or the disconnect. */
export type RawPacket =
  | { readonly kind: 'event'; readonly args: unknown[]; readonly ackId?: number }
  | { readonly kind: 'disconnect' };

/** A raw Engine.IO/Socket.IO connection; its `inbox` holds the `rtc-signal` strings. */
export interface RawEngine extends RawPeer {
  readonly ws: WebSocket;
  /** Every Socket.IO packet received, in order. */
  readonly packets: Inbox<RawPacket>;
  /** Pings received so far. */
  readonly pings: number;
  /** Emits one Socket.IO event on the main namespace. */
  emit(...args: unknown[]): void;
}

/** Options of {@link rawEngine}. */
export interface RawEngineOptions {
  /** Answer Engine.IO pings; false plays a peer that vanished without closing. @default true */
  readonly answerPings?: boolean;
  /** Socket.IO CONNECT payload, e.g. `{ token }`. */
  readonly auth?: Record<string, unknown>;
}

/** A filter for `packets.next`: the event `name`. */
export const isEvent =
  (name: string) =>
  (packet: RawPacket): boolean =>
    packet.kind === 'event' && packet.args[0] === name;

const EVENT = /^42(\d*)(\[.*)$/s;

/** Connects to the Socket.IO server at `url` (`http://host:port`) and joins the main namespace. */
export async function rawEngine(url: string, options: RawEngineOptions = {}): Promise<RawEngine> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const packets = inbox<RawPacket>('a Socket.IO packet');
  const signals = inbox<string>('an rtc-signal event');
  let pings = 0;
  let joined = false;
  let announcedCode: number | undefined; // from the server's rtc-close event
  ws.on('message', (data) => {
    const text = data.toString();
    if (text === '2') {
      pings += 1;
      if (options.answerPings ?? true) ws.send('3');
    } else if (text.startsWith('40')) joined = true;
    else if (text === '41') packets.push({ kind: 'disconnect' });
    else {
      const match = EVENT.exec(text);
      if (!match) return;
      const args = JSON.parse(match[2]!) as unknown[];
      packets.push({ kind: 'event', args, ...(match[1] && { ackId: Number(match[1]) }) });
      if (args[0] === SIGNAL_EVENT && typeof args[1] === 'string') signals.push(args[1]);
      if (args[0] === CLOSE_EVENT && typeof args[1] === 'number') announcedCode = args[1];
    }
  });
  ws.on('error', () => undefined);
  // the code the server gave in rtc-close, else the WebSocket's own
  const closed = new Promise<number | undefined>((resolve) =>
    ws.once('close', (code) => resolve(announcedCode ?? code)),
  );
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(options.auth ? `40${JSON.stringify(options.auth)}` : '40');
  await waitUntil(() => joined, 'the Socket.IO CONNECT answer');
  const emit = (...args: unknown[]) => ws.send(`42${JSON.stringify(args)}`);
  return {
    ws,
    packets,
    inbox: signals,
    get pings() {
      return pings;
    },
    answersProbes: false,
    emit,
    say: (message) => emit(SIGNAL_EVENT, message),
    sayUnreadable: () => emit(SIGNAL_EVENT, 42),
    // the engine goes without a Socket.IO disconnect packet, as when a tab is killed
    kill: () => ws.close(),
    // TCP backpressure: the kernel buffers fill, then engine.io's write queue grows
    stopReading: () => ws.pause(),
    closed: () => closed,
    async [Symbol.asyncDispose]() {
      ws.terminate();
    },
  };
}
