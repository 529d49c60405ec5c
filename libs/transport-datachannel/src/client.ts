/**
 * Client half of the data-channel transport: an ordered, reliable `RTCDataChannel` (browser,
 * `@roamhq/wrtc`) or a `simple-peer` instance, wrapped as a `Pipe`. Text only; a binary message
 * is dropped with a debug note. The pipe closes with the channel, or with the peer connection
 * when it fails.
 */
import type { Connector, Pipe } from '@switchyard/protocol';
import {
  assertReliable,
  closeChannel,
  isOpen,
  watchOpen,
  type ChannelLike,
  type PeerConnectionLike,
} from './channel.ts';
import { bindChannel, READY } from './channel-ops.ts';

export { DATA_CHANNEL_LABEL, type ChannelLike, type PeerConnectionLike } from './channel.ts';

/** Options of {@link dataChannelPipe}. */
export interface DataChannelPipeOptions {
  /**
   * The connection the channel belongs to: the pipe closes when it fails, and `isAlive` answers
   * false while it is disconnected. simple-peer watches its own connection. @default none
   */
  readonly peerConnection?: PeerConnectionLike;
  /** Debug notes, e.g. a dropped binary message. @default no-op */
  readonly debug?: (message: string) => void;
}

/** Options of {@link dataChannelConnector}. */
export interface DataChannelConnectorOptions extends DataChannelPipeOptions {
  /** Give up when the channel has not opened after this long (the channel is then closed). @default 10000 */
  readonly openTimeoutMs?: number;
}

/** Opens (or hands over) one channel per connection; see {@link dataChannelConnector}. */
export type OpenDataChannel = (options: {
  readonly signal?: AbortSignal;
}) => ChannelLike | Promise<ChannelLike>;

/**
 * Wraps an **open** data channel as a `Pipe`.
 * @throws TypeError when the channel is not open, or is unordered or partially reliable.
 */
export function dataChannelPipe(channel: ChannelLike, options: DataChannelPipeOptions = {}): Pipe {
  assertReliable(channel);
  if (!isOpen(channel)) {
    throw new TypeError('dataChannelPipe needs an open channel; use dataChannelConnector');
  }
  return bindChannel(channel, { ...options, role: 'client' }).pipe;
}

/**
 * A `Connector` over data channels: each connection calls `open` for a channel (for example
 * `() => pc.createDataChannel('switchyard')`, so a reconnect opens a fresh channel on the same
 * peer connection), waits until it is open and the far side's server half has answered the
 * readiness probe, and wraps it.
 */
export function dataChannelConnector(
  open: OpenDataChannel,
  options: DataChannelConnectorOptions = {},
): Connector {
  const timeoutMs = options.openTimeoutMs ?? 10_000;
  return async ({ signal } = {}) => {
    signal?.throwIfAborted();
    const deadline = Date.now() + timeoutMs;
    const channel = await open(signal ? { signal } : {});
    assertReliable(channel);
    return new Promise<Pipe>((resolve, reject) => {
      const fail = (error: Error) => {
        closeChannel(channel);
        reject(error);
      };
      watchOpen(
        channel,
        Math.max(0, deadline - Date.now()),
        signal,
        () => awaitReady(channel, options, deadline, signal).then(resolve, fail),
        fail,
      );
    });
  };
}

/** Binds the open channel, probes the far side and resolves once it answered. */
function awaitReady(
  channel: ChannelLike,
  options: DataChannelPipeOptions,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<Pipe> {
  return new Promise<Pipe>((resolve, reject) => {
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      offClose();
      if (error) {
        handle.pipe.close();
        reject(error);
      } else resolve(handle.pipe);
    };
    const onAbort = () => settle(new Error('aborted'));
    const handle = bindChannel(channel, { ...options, role: 'client', onReady: () => settle() });
    const offClose = handle.pipe.onClose(() => settle(new Error('the data channel closed')));
    const timer = setTimeout(
      () => settle(new Error('the far side did not answer on the data channel in time')),
      Math.max(0, deadline - Date.now()),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      handle.pipe.send(READY);
    } catch (error) {
      settle(error as Error);
    }
  });
}
