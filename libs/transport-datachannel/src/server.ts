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
  type Accept,
  type ConnectionContext,
  type Connector,
  type Pipe,
} from '@switchyard/protocol';
import {
  assertReliable,
  closeChannel,
  TRANSPORT,
  watchOpen,
  type ChannelLike,
  type PeerConnectionLike,
} from './channel.ts';
import { bindChannel, READY } from './channel-ops.ts';

export { DATA_CHANNEL_LABEL, type ChannelLike, type PeerConnectionLike } from './channel.ts';

/** Options of {@link attachDataChannel} and {@link relayDataChannel}. */
export interface DataChannelServerOptions {
  /** The connection the channel belongs to: the pipe closes when it fails. @default none */
  readonly peerConnection?: PeerConnectionLike;
  /** Close a channel that has not opened after this long. @default 10000 */
  readonly openTimeoutMs?: number;
  /** Debug notes. @default no-op */
  readonly debug?: (message: string) => void;
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
  /** Closes the channel (and a relay's upstream pipe); resolves once the handle is closed. */
  close(): Promise<void>;
}

/** Tells a client that probed before we listened that we do now (see `READY`). */
function sayReady(pipe: Pipe): void {
  try {
    pipe.send(READY);
  } catch {
    // closed already: the close handler does the rest
  }
}

/** What the hub learns about a data-channel connection besides its transport. */
export type DataChannelContext = Partial<Omit<ConnectionContext, 'transport'>>;

/**
 * Serves `channel` with a local hub: once open it is handed to `accept` (usually `hub.accept`)
 * as a pipe with transport `'datachannel'`. Binary messages are answered with `/error malformed`.
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
  watchOpen(
    channel,
    options.openTimeoutMs ?? 10_000,
    abort.signal,
    () => {
      pipe = bindChannel(channel, { ...options, role: 'server' }).pipe;
      sayReady(pipe);
      state = 'open';
      pipe.onClose(() => {
        state = 'closed';
        markClosed();
      });
      accept(pipe, { ...context, transport: TRANSPORT });
    },
    (error) => {
      options.debug?.(`switchyard:datachannel not attached: ${error.message}`);
      state = 'closed';
      closeChannel(channel);
      markClosed();
    },
  );
  return {
    get state() {
      return state;
    },
    close() {
      if (pipe) pipe.close(CloseCode.goingAway, 'server shutting down');
      else abort.abort();
      return closed;
    },
  };
}

/**
 * Relays `channel` to a hub through `upstream` (this peer's own connector). Each direction is
 * forwarded verbatim; closing either side closes the other without a `/leave`, so the hub
 * treats it as a hard disconnect and applies its grace window. Binary messages from the far
 * peer are answered with `/error malformed`.
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
  let markClosed!: () => void;
  const closed = new Promise<void>((resolve) => (markClosed = resolve));

  const shutdown = (why: string) => {
    if (state === 'closed') return;
    state = 'closed';
    options.debug?.(`switchyard:datachannel relay closed: ${why}`);
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

  watchOpen(
    channel,
    options.openTimeoutMs ?? 10_000,
    abort.signal,
    () => {
      down = bindChannel(channel, { ...options, role: 'server' }).pipe;
      sayReady(down);
      down.onMessage(toHub);
      down.onClose(() => shutdown('data channel closed'));
      void connectUpstream();
    },
    (error) => shutdown(error.message),
  );

  return {
    get state() {
      return state;
    },
    close() {
      shutdown('closed by the relay');
      return closed;
    },
  };
}
