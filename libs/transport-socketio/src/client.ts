/**
 * Client half of the Socket.IO transport: `socket.io-client` 4.8 with its own reconnection off
 * (the signaller owns reconnect), WebSocket first and long-polling as the fallback.
 */
import { io, type Socket } from 'socket.io-client';
import {
  CloseCode,
  ConnectRefusedError,
  definePipe,
  openWithin,
  resolveToken,
  type CloseInfo,
  type Connector,
  type Pipe,
  type TokenSource,
} from '@switchyard/protocol';
import { CLOSE_EVENT, PROBE_EVENT, SIGNAL_EVENT } from './events.ts';

/** An engine.io transport name. */
export type EngineTransport = 'websocket' | 'polling' | 'webtransport';

/** Options of {@link socketIoConnector}. */
export interface SocketIoConnectorOptions {
  /**
   * A credential sent as `auth.token` in the Socket.IO handshake (docs/protocol.md §4.7): a
   * string, or a function called before every (re)connect.
   */
  readonly token?: TokenSource;
  /** Endpoint path on the server. @default '/socket.io' */
  readonly path?: string;
  /** engine.io transports in the order tried; each later one is a fallback. @default ['websocket', 'polling'] */
  readonly transports?: readonly EngineTransport[];
  /** Give up opening after this long. @default 10000 */
  readonly openTimeoutMs?: number;
}

/** The close code a transport failure implies: the WebSocket's own, or 1009 for HTTP 413. */
function transportCloseCode(description: unknown): number | undefined {
  const { description: status, context } = (description ?? {}) as {
    description?: unknown;
    context?: { code?: unknown };
  };
  // a long-polling POST over the server's maxHttpBufferSize is refused with HTTP 413
  if (status === 413) return CloseCode.frameTooLarge;
  return typeof context?.code === 'number' ? context.code : undefined;
}

/** Acknowledges a liveness probe: the acknowledgement callback is the last argument. */
function answerProbe(...args: unknown[]): void {
  const ack = args[args.length - 1];
  if (typeof ack === 'function') (ack as () => void)();
}

/**
 * A `Connector` that opens one Socket.IO connection per pipe. `url` is the server
 * (`http(s)://host:port`); only its origin is used, since Socket.IO would read a path as a
 * namespace.
 */
export function socketIoConnector(url: string, options: SocketIoConnectorOptions = {}): Connector {
  const origin = new URL(url).origin;
  return async ({ signal } = {}) =>
    open(origin, options, await resolveToken(options.token), signal);
}

function open(
  origin: string,
  options: SocketIoConnectorOptions,
  token: string | undefined,
  signal?: AbortSignal,
): Promise<Pipe> {
  const timeoutMs = options.openTimeoutMs ?? 10_000;
  return openWithin<Pipe>({ target: origin, timeoutMs, signal }, (attempt) => {
    const socket: Socket = io(origin, {
      path: options.path ?? '/socket.io',
      forceNew: true,
      reconnection: false,
      transports: [...(options.transports ?? ['websocket', 'polling'])],
      tryAllTransports: true,
      // openWithin owns the deadline; socket.io's own would race it with a vaguer error
      timeout: timeoutMs + 1000,
      ...(token !== undefined && { auth: { token } }),
    });
    let requested: Partial<CloseInfo> | undefined; // by pipe.close() here
    let announced: Partial<CloseInfo> | undefined; // by the server's close event

    const handle = definePipe('socket.io', {
      send: (message) => void socket.emit(SIGNAL_EVENT, message),
      close: (code, reason) => {
        requested = { code: code ?? CloseCode.normal, ...(reason !== undefined && { reason }) };
        // the Socket.IO disconnect packet follows what is queued, so a last /leave gets out
        socket.disconnect();
      },
    });

    socket.once('connect', () => attempt.resolve(handle.pipe));
    socket.on('connect_error', (error) =>
      attempt.reject(new ConnectRefusedError(origin, error.message, { cause: error })),
    );
    socket.on(SIGNAL_EVENT, (message: unknown) => {
      if (typeof message === 'string') handle.receive(message);
    });
    socket.on(PROBE_EVENT, answerProbe);
    socket.on(CLOSE_EVENT, (code: unknown, reason: unknown) => {
      if (typeof code === 'number')
        announced = { code, ...(typeof reason === 'string' && { reason }) };
    });
    socket.on('disconnect', (reason, description) => {
      if (!attempt.settled)
        return attempt.reject(
          new ConnectRefusedError(origin, `disconnected while connecting (${reason})`),
        );
      handle.closed(
        requested ??
          announced ?? {
            code:
              reason === 'io server disconnect'
                ? CloseCode.normal
                : (transportCloseCode(description) ?? CloseCode.abnormal),
            reason,
          },
      );
    });
    return () => socket.disconnect();
  });
}
