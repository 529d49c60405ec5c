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
  type Pipe,
  type ServerHalf,
} from '@switchyard/protocol';
import { assertReliable, closeChannel, TRANSPORT, type ChannelLike } from './channel.ts';
import { bindChannel, defaultLog } from './channel-ops.ts';
import {
  channelOpened,
  sayReady,
  type DataChannelServerHandle,
  type DataChannelServerOptions,
} from './opening.ts';

export { DATA_CHANNEL_LABEL, type ChannelLike, type PeerConnectionLike } from './channel.ts';
export type { DataChannelServerHandle, DataChannelServerOptions } from './opening.ts';
export { relayDataChannel, type DataChannelRelayOptions } from './relay.ts';

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
