/**
 * The relay mode of the server half: this peer opens, for the far peer, its own upstream pipe to
 * a hub with its own connector and forwards both directions verbatim. The hub still binds and
 * stamps the far peer's identity, because its frames arrive on a connection of their own.
 * Browser-safe: no `node:` imports.
 */
import { CloseCode, errorMessage, type Connector, type Pipe } from '@switchyard/protocol';
import { assertReliable, closeChannel, type ChannelLike } from './channel.ts';
import { bindChannel, defaultLog } from './channel-ops.ts';
import {
  channelOpened,
  sayReady,
  type DataChannelServerHandle,
  type DataChannelServerOptions,
} from './opening.ts';

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
