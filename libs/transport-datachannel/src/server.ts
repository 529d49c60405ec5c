/**
 * Server half of the data-channel transport, in two modes:
 * - {@link attachDataChannel}: a hub running inside this peer (Node or a browser tab) serves the
 *   channel directly;
 * - {@link relayDataChannel}: this peer opens, for the far peer, its own upstream pipe to a hub
 *   with its own connector and forwards both directions verbatim. The hub still binds and stamps
 *   the far peer's identity, because its frames arrive on a connection of their own.
 * Browser-safe: no `node:` imports.
 */
import {
  CloseCode,
  errorMessage,
  openWithin,
  type Accept,
  type ConnectionContext,
  type Connector,
  type Logger,
  type Pipe,
  type ServerHalf,
} from '@switchyard/protocol';
import {
  assertReliable,
  closeChannel,
  DATA_CHANNEL_LABEL,
  onceOpen,
  TRANSPORT,
  type ChannelLike,
  type PeerConnectionLike,
} from './channel.ts';
import { bindChannel, defaultLog, READY } from './channel-ops.ts';

export { DATA_CHANNEL_LABEL, type ChannelLike, type PeerConnectionLike } from './channel.ts';

/** Options of {@link attachDataChannel} and {@link relayDataChannel}. */
export interface DataChannelServerOptions {
  /** The connection the channel belongs to: the pipe closes when it fails. @default none */
  readonly peerConnection?: PeerConnectionLike;
  /** Close a channel that has not opened after this long. @default 10000 */
  readonly openTimeoutMs?: number;
  /** Debug lines (a channel given up on, a relay closing). @default debugLogger('switchyard:datachannel') */
  readonly log?: Logger;
}

/** Options of {@link relayDataChannel}. */
export interface DataChannelRelayOptions extends DataChannelServerOptions {
  /** Messages held while the upstream pipe opens; more closes the relay. @default 256 */
  readonly backlogLimit?: number;
  /**
   * The far peer's channel may buffer this many bytes; past it the relay closes as a slow
   * consumer (the hub cannot see this buffer). @default 1 MiB
   */
  readonly highWaterMark?: number;
}

/** One attached or relayed channel. */
export interface DataChannelServerHandle {
  /** `opening` until the channel (and, for a relay, the upstream pipe) is open. */
  readonly state: 'opening' | 'open' | 'closed';
  /** Resolves once the handle is closed, whoever closed it. */
  readonly closed: Promise<void>;
  /** Closes the channel (and a relay's upstream pipe); resolves once the handle is closed. */
  close(code?: number): Promise<void>;
}

/** Tells a client that probed before we listened that we do now (see `READY`). */
function sayReady(pipe: Pipe): void {
  try {
    pipe.send(READY);
  } catch {
    // closed already: the close handler does the rest
  }
}

/**
 * Runs `onOpen` synchronously inside the channel's open event, or rejects on close, error,
 * timeout (`ConnectTimeoutError`) or abort (the signal's reason).
 */
function channelOpened(
  channel: ChannelLike,
  timeoutMs: number,
  signal: AbortSignal,
  onOpen: () => void,
): Promise<void> {
  return openWithin<void>(
    { target: `data channel ${DATA_CHANNEL_LABEL}`, timeoutMs, signal },
    (attempt) =>
      onceOpen(
        channel,
        () => {
          onOpen();
          attempt.resolve();
        },
        attempt.reject,
      ),
  );
}

/** What the hub learns about a data-channel connection besides its transport. */
export type DataChannelContext = Partial<Omit<ConnectionContext, 'transport'>>;

/**
 * Serves `channel` with a local hub: once open it is handed to `accept` (usually `hub.accept`)
 * as a pipe with transport `'datachannel'`. Binary messages are reported as unreadable, so the
 * hub answers them with `/error malformed` inside its rate limit.
 * @throws TypeError for an unordered or partially reliable channel.
 */
export function attachDataChannel(
  channel: ChannelLike,
  accept: Accept,
  context: DataChannelContext = {},
  options: DataChannelServerOptions = {},
): DataChannelServerHandle {
  assertReliable(channel);
  let state: DataChannelServerHandle['state'] = 'opening';
  let pipe: Pipe | undefined;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));
  const abort = new AbortController();
  const log = options.log ?? defaultLog;
  channelOpened(channel, options.openTimeoutMs ?? 10_000, abort.signal, () => {
    pipe = bindChannel(channel, { ...options, role: 'server', log }).pipe;
    sayReady(pipe);
    state = 'open';
    pipe.onClose(() => {
      state = 'closed';
      markClosed();
    });
    accept(pipe, { ...context, transport: TRANSPORT });
  }).catch((error: Error) => {
    log('debug', 'data channel not attached', { error: error.message });
    state = 'closed';
    closeChannel(channel);
    markClosed();
  });
  return {
    get state() {
      return state;
    },
    closed,
    close(code = CloseCode.goingAway) {
      if (pipe) pipe.close(code, 'server shutting down');
      else abort.abort();
      return closed;
    },
  };
}

/**
 * Relays `channel` to a hub through `upstream` (this peer's own connector). Each direction is
 * forwarded verbatim; closing either side closes the other without a `/leave`, so the hub
 * treats it as a hard disconnect and applies its grace window. The upstream hub never sees the
 * far peer's binary messages: the relay answers each with `/error malformed` itself (a far peer
 * that floods them and does not read the answers is closed as a slow consumer).
 * @throws TypeError for an unordered or partially reliable channel.
 */
export function relayDataChannel(
  channel: ChannelLike,
  upstream: Connector,
  options: DataChannelRelayOptions = {},
): DataChannelServerHandle {
  assertReliable(channel);
  const backlogLimit = options.backlogLimit ?? 256;
  const highWaterMark = options.highWaterMark ?? 1024 * 1024;
  let state: DataChannelServerHandle['state'] = 'opening';
  let down: Pipe | undefined;
  let up: Pipe | undefined;
  const backlog: string[] = [];
  const abort = new AbortController();
  const log = options.log ?? defaultLog;
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  const shutdown = (why: string) => {
    if (state === 'closed') return;
    state = 'closed';
    log('debug', 'relay closed', { why });
    abort.abort();
    backlog.length = 0;
    up?.close(CloseCode.normal, 'relayed data channel closed');
    if (down) down.close(CloseCode.normal, why);
    else closeChannel(channel);
    markClosed();
  };

  const toHub = (message: string) => {
    if (!up) {
      if (backlog.length < backlogLimit) backlog.push(message);
      else shutdown('too many messages before the upstream pipe opened');
      return;
    }
    try {
      up.send(message);
    } catch {
      shutdown('upstream pipe closed');
    }
  };

  const toPeer = (message: string) => {
    try {
      down!.send(message);
    } catch {
      return shutdown('data channel closed');
    }
    if (down!.bufferedAmount > highWaterMark) shutdown('slow consumer');
  };

  const connectUpstream = async () => {
    try {
      const pipe = await upstream({ signal: abort.signal });
      if (state === 'closed') return pipe.close(CloseCode.normal, 'relayed data channel closed');
      up = pipe;
      state = 'open';
      pipe.onMessage(toPeer);
      pipe.onClose((info) => shutdown(`upstream pipe closed (${info.code ?? 'no code'})`));
      for (const message of backlog.splice(0)) pipe.send(message);
    } catch (error) {
      shutdown(`upstream pipe failed: ${(error as Error).message}`);
    }
  };

  channelOpened(channel, options.openTimeoutMs ?? 10_000, abort.signal, () => {
    down = bindChannel(channel, { ...options, role: 'server', log }).pipe;
    sayReady(down);
    down.onMessage(toHub);
    down.onUnreadable?.((what) =>
      toPeer(errorMessage('malformed', `${what} are not accepted: send UTF-8 text`)),
    );
    down.onClose(() => shutdown('data channel closed'));
    void connectUpstream();
  }).catch((error: Error) => shutdown(error.message));

  return {
    get state() {
      return state;
    },
    closed,
    close() {
      shutdown('closed by the relay');
      return closed;
    },
  };
}

/** A hub host's server half for data channels: every channel it serves, counted and closable. */
export interface DataChannelServer extends ServerHalf {
  readonly transport: 'datachannel';
  /**
   * Serves one channel (see {@link attachDataChannel}); `options` add to the server's, e.g. the
   * channel's `peerConnection`. After `close` a channel is closed at once and never reaches
   * `accept`.
   */
  serve(
    channel: ChannelLike,
    context?: DataChannelContext,
    options?: DataChannelServerOptions,
  ): DataChannelServerHandle;
}

/**
 * The server half for a hub running inside this peer: `serve` each Switchyard channel other
 * peers open to it; `connections` counts the open ones and `close(code)` closes them all
 * (data channels carry no code: the far end sees a plain close).
 */
export function dataChannelServer(
  accept: Accept,
  options: DataChannelServerOptions = {},
): DataChannelServer {
  const served = new Set<DataChannelServerHandle>();
  let closing = false;
  return {
    transport: TRANSPORT,
    serve(channel, context = {}, own = {}) {
      if (closing) {
        closeChannel(channel);
        return { state: 'closed', closed: Promise.resolve(), close: () => Promise.resolve() };
      }
      const handle = attachDataChannel(channel, accept, context, { ...options, ...own });
      served.add(handle);
      void handle.closed.then(() => served.delete(handle));
      return handle;
    },
    get connections() {
      let open = 0;
      for (const handle of served) if (handle.state === 'open') open += 1;
      return open;
    },
    async close(code = CloseCode.goingAway) {
      closing = true;
      await Promise.all([...served].map((handle) => handle.close(code)));
    },
  };
}
