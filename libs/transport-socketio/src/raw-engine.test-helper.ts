/**
 * A hand-driven Socket.IO client over one Engine.IO v4 WebSocket, for wire-level tests: it can
 * stay silent on pings, ignore acknowledgements (like an original client) or stop reading.
 */
import { WebSocket } from 'ws';
import { waitUntil } from '@switchyard/testing';

/** One received Socket.IO event: its arguments, with the ack id when the server asked for one. */
export interface RawEvent {
  readonly args: unknown[];
  readonly ackId?: number;
}

/** A raw Engine.IO/Socket.IO connection. */
export interface RawEngine extends AsyncDisposable {
  readonly ws: WebSocket;
  /** Socket.IO events received so far. */
  readonly events: RawEvent[];
  /** Pings received so far. */
  readonly pings: number;
  /** The WebSocket close code once closed. */
  readonly closeCode: number | undefined;
  emit(...args: unknown[]): void;
  /** Waits for the next event (after those already taken) that passes `filter`. */
  next(filter?: (event: RawEvent) => boolean, timeoutMs?: number): Promise<RawEvent>;
  /** Resolves with the close code. */
  closed(timeoutMs?: number): Promise<number>;
}

/** Options of {@link rawEngine}. */
export interface RawEngineOptions {
  /** Answer Engine.IO pings; false plays a peer that vanished without closing. @default true */
  readonly answerPings?: boolean;
  /** Socket.IO CONNECT payload, e.g. `{ token }`. */
  readonly auth?: Record<string, unknown>;
}

const EVENT = /^42(\d*)(\[.*)$/s;

/** Connects to the Socket.IO server at `url` (`http://host:port`) and joins the main namespace. */
export async function rawEngine(url: string, options: RawEngineOptions = {}): Promise<RawEngine> {
  const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`);
  const events: RawEvent[] = [];
  let pings = 0;
  let closeCode: number | undefined;
  let cursor = 0;
  let joined = false;
  ws.on('message', (data) => {
    const text = data.toString();
    if (text === '2') {
      pings += 1;
      if (options.answerPings ?? true) ws.send('3');
    } else if (text.startsWith('40')) joined = true;
    else {
      const match = EVENT.exec(text);
      if (match)
        events.push({
          args: JSON.parse(match[2]!) as unknown[],
          ...(match[1] && { ackId: Number(match[1]) }),
        });
    }
  });
  ws.on('close', (code) => (closeCode = code));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(options.auth ? `40${JSON.stringify(options.auth)}` : '40');
  await waitUntil(() => joined, 'the Socket.IO CONNECT answer');
  return {
    ws,
    events,
    get pings() {
      return pings;
    },
    get closeCode() {
      return closeCode;
    },
    emit: (...args) => ws.send(`42${JSON.stringify(args)}`),
    next: (filter = () => true, timeoutMs = 5000) =>
      waitUntil(
        () => {
          while (cursor < events.length) {
            const event = events[cursor++]!;
            if (filter(event)) return event;
          }
          return undefined;
        },
        'a Socket.IO event',
        timeoutMs,
      ),
    closed: (timeoutMs = 5000) => waitUntil(() => closeCode, 'the WebSocket to close', timeoutMs),
    async [Symbol.asyncDispose]() {
      ws.terminate();
    },
  };
}
