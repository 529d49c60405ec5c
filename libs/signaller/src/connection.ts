/**
 * The connect/reconnect state machine (docs/protocol.md §5): opens pipes through the connector, reports
 * `connected`, `disconnected` and `error`, and after an unintended close reconnects with the
 * injected delay, unless the server refused us in a way a retry would only repeat.
 */
import {
  CloseCode,
  type Clock,
  type CloseInfo,
  type Connector,
  type Emitter,
  type ErrorCode,
  type Logger,
  type Pipe,
  SignallingError,
} from '@switchyard/protocol';
import { ReconnectStoppedError } from './errors.ts';
import { createOneShotTimer } from './one-shot-timer.ts';
import type { ReadyState, SignallerEvents } from './types.ts';

/** Exponential backoff from 100 ms to 10 s with ±50% jitter, so reconnect storms spread out. */
export function defaultReconnectDelay(attempt: number): number {
  const base = Math.min(10_000, 100 * 2 ** attempt);
  return base / 2 + Math.random() * base;
}

/** Every state and the states it may move to: the one place the state machine is written down. */
const TRANSITIONS: { readonly [from in ReadyState]: readonly ReadyState[] } = {
  disconnected: ['connecting', 'closed'],
  connecting: ['connected', 'disconnected', 'closed'],
  connected: ['disconnected', 'closed'],
  closed: [],
};

/** Close codes after which reconnecting would only repeat the refusal. */
const FINAL_CLOSE_CODES = new Set<number>([
  CloseCode.unauthorized,
  CloseCode.forbidden,
  CloseCode.idTaken,
]);
/** The same refusals as `/error` codes, for transports that carry no close code (data channels). */
const FINAL_ERROR_CODES = new Set<ErrorCode>(['unauthorized', 'id-taken']);

/** What the connection needs from the signaller that owns it. */
export interface ConnectionSetup {
  readonly connector: Connector;
  readonly clock: Clock;
  readonly log: Logger;
  /** Reconnect on its own after an unintended close. */
  readonly reconnect: boolean;
  readonly reconnectDelay: (attempt: number) => number;
  readonly events: Emitter<SignallerEvents>;
  /** Every frame the open pipe receives. */
  onMessage(message: string): void;
  /** Runs on each new pipe right after `connected` is emitted: re-announce, then flush. */
  onOpen(pipe: Pipe): void;
}

/** One signaller's connection, across reconnects. */
export interface Connection {
  readonly state: ReadyState;
  /** Connects now if disconnected; otherwise does nothing. */
  connect(): Promise<void>;
  /**
   * Connects if a connection was attempted before and no reconnect is under way or scheduled:
   * how an outbound message brings back a connection that `reconnect: false` (or a refusal) left
   * down, while `autoconnect: false` still waits for the first `connect()`.
   */
  connectOnDemand(): void;
  /** Sends on the open pipe; false when there is none, or it closed under us. */
  trySend(frame: string): boolean;
  /** Notes `/error`s that make reconnecting pointless, until the next connection opens. */
  noteServerError(error: SignallingError): void;
  /** Sends `farewell` if connected, closes the pipe, aborts a pending open, and stays closed. */
  close(farewell: string): void;
}

/** Creates a connection; nothing happens until `connect()`. */
export function createConnection(setup: ConnectionSetup): Connection {
  const { connector, events, log } = setup;
  const reconnectTimer = createOneShotTimer(setup.clock);
  let state: ReadyState = 'disconnected';
  let pipe: Pipe | undefined;
  let attempt = 0;
  let attempted = false;
  let abort: AbortController | undefined;
  /** Set by an `/error` that makes reconnecting pointless; cleared on each new connection. */
  let refusal: ErrorCode | undefined;

  /** Moves to `next` if the table allows it; false (and no change) otherwise. */
  function transition(next: ReadyState): boolean {
    if (!TRANSITIONS[state].includes(next)) return false;
    log('debug', 'state', { from: state, to: next });
    state = next;
    return true;
  }

  async function connect(): Promise<void> {
    if (!transition('connecting')) return;
    reconnectTimer.cancel();
    attempted = true;
    abort = new AbortController();
    let opened: Pipe;
    try {
      opened = await connector({ signal: abort.signal });
    } catch (error) {
      // closed while connecting: the failure is our own abort, nobody needs to hear of it
      if (!transition('disconnected')) return;
      // emitted as the connector rejected, so listeners can tell a timeout from a refusal
      events.emit('error', error instanceof Error ? error : new Error(String(error)));
      // an SSE 401 or an MQTT CONNACK refusal: the same credentials would only be refused again
      if (error instanceof SignallingError && FINAL_ERROR_CODES.has(error.code)) {
        const stopped = new ReconnectStoppedError({ refusal: error.code });
        log('warn', stopped.message);
        events.emit('error', stopped);
        return;
      }
      scheduleReconnect();
      return;
    }
    if (!transition('connected')) {
      opened.close(CloseCode.normal, 'closed while connecting');
      return;
    }
    pipe = opened;
    refusal = undefined;
    attempt = 0;
    opened.onMessage(setup.onMessage);
    opened.onClose((info) => onClose(opened, info));
    events.emit('connected');
    setup.onOpen(opened);
  }

  function onClose(closed: Pipe, info: CloseInfo): void {
    if (pipe !== closed) return;
    pipe = undefined;
    const ended = !transition('disconnected');
    log('debug', 'pipe closed', { code: info.code, reason: info.reason, local: info.local });
    events.emit('disconnected');
    if (ended) return;
    const refusedByClose = info.code !== undefined && FINAL_CLOSE_CODES.has(info.code);
    if (refusedByClose || refusal !== undefined) {
      const stopped = new ReconnectStoppedError({
        ...(refusedByClose && { closeCode: info.code, reason: info.reason }),
        refusal,
      });
      log('warn', stopped.message);
      events.emit('error', stopped);
      return;
    }
    // a draining node asks for the reconnect now: another node takes the connection, and the
    // grace window is the budget
    scheduleReconnect(info.code === CloseCode.serviceRestart);
  }

  function scheduleReconnect(now = false): void {
    if (!setup.reconnect || state !== 'disconnected' || reconnectTimer.pending) return;
    const delayMs = now ? 0 : setup.reconnectDelay(attempt);
    log('debug', 'reconnecting', { attempt, delayMs });
    attempt += 1;
    reconnectTimer.start(delayMs, () => void connect());
  }

  return {
    get state() {
      return state;
    },
    connect,
    connectOnDemand() {
      if (attempted && !reconnectTimer.pending) void connect();
    },
    trySend(frame) {
      if (!pipe || state !== 'connected') return false;
      try {
        pipe.send(frame);
        return true;
      } catch {
        return false; // closed under us: the caller keeps the frame for the next connection
      }
    },
    noteServerError(error) {
      if (FINAL_ERROR_CODES.has(error.code)) refusal = error.code;
    },
    close(farewell) {
      const open = pipe;
      const wasConnected = state === 'connected';
      if (!transition('closed')) return;
      reconnectTimer.cancel();
      if (open && wasConnected) {
        try {
          open.send(farewell);
        } catch {
          // already closing
        }
      }
      abort?.abort();
      if (open) open.close(CloseCode.normal, 'leave');
    },
  };
}
