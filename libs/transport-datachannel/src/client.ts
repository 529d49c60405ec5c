/**
 * Client half of the data-channel transport: an ordered, reliable `RTCDataChannel` (browser,
 * `@roamhq/wrtc`) or a `simple-peer` instance, wrapped as a `Pipe`. Text only; a binary message
 * is dropped with a debug line. The pipe closes with the channel, or with the peer connection
 * when it fails.
 */
import {
  ConnectRefusedError,
  openWithin,
  type Connector,
  type Logger,
  type Pipe,
  type PipeHandle,
} from '@switchyard/protocol';
import {
  assertReliable,
  closeChannel,
  DATA_CHANNEL_LABEL,
  isOpen,
  onceOpen,
  type ChannelLike,
  type PeerConnectionLike,
} from './channel.ts';
import { bindChannel, defaultLog, READY } from './channel-ops.ts';

export { DATA_CHANNEL_LABEL, type ChannelLike, type PeerConnectionLike } from './channel.ts';

/** Options of {@link dataChannelPipe}. */
export interface DataChannelPipeOptions {
  /**
   * The connection the channel belongs to: the pipe closes when it fails, and `isAlive` answers
   * false while it is disconnected. simple-peer watches its own connection. @default none
   */
  readonly peerConnection?: PeerConnectionLike;
  /** Debug lines, e.g. a dropped binary message. @default debugLogger('switchyard:datachannel') */
  readonly log?: Logger;
}

/** Options of {@link dataChannelConnector}. */
export interface DataChannelConnectorOptions extends DataChannelPipeOptions {
  /**
   * Give up (`ConnectTimeoutError`) when the channel is not open and answered by the far side's
   * server half after this long; the channel is then closed. @default 10000
   */
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
  return bindChannel(channel, { ...options, role: 'client', log: options.log ?? defaultLog }).pipe;
}

/**
 * A `Connector` over data channels: each connection calls `open` for a channel (for example
 * `() => pc.createDataChannel('switchyard')`, so a reconnect opens a fresh channel on the same
 * peer connection), waits until it is open and the far side's server half has answered the
 * readiness probe, and wraps it. One deadline covers `open`, the channel opening and the answer
 * (`ConnectTimeoutError`); an abort rejects with the signal's reason; a channel that closes
 * first rejects with `ConnectRefusedError`. A channel the attempt gave up on is closed.
 */
export function dataChannelConnector(
  open: OpenDataChannel,
  options: DataChannelConnectorOptions = {},
): Connector {
  const timeoutMs = options.openTimeoutMs ?? 10_000;
  const log = options.log ?? defaultLog;
  const target = `data channel ${DATA_CHANNEL_LABEL}`;
  return ({ signal } = {}) =>
    openWithin<Pipe>({ target, timeoutMs, signal }, (attempt) => {
      let channel: ChannelLike | undefined;
      let handle: PipeHandle | undefined;
      let stop = () => undefined as void;
      const start = (opened: ChannelLike) => {
        channel = opened;
        assertReliable(opened);
        stop = onceOpen(
          opened,
          () => {
            const bound = bindChannel(opened, {
              ...options,
              role: 'client',
              log,
              onReady: () => {
                offClose();
                attempt.resolve(bound.pipe);
              },
            });
            handle = bound;
            const offClose = bound.pipe.onClose(() =>
              attempt.reject(new ConnectRefusedError(target, 'the data channel closed')),
            );
            try {
              bound.pipe.send(READY);
            } catch (error) {
              attempt.reject(error as Error);
            }
          },
          (error) => attempt.reject(new ConnectRefusedError(target, error.message)),
        );
      };
      void (async () => open(signal ? { signal } : {}))().then(
        (opened) => {
          // given up meanwhile (timeout, abort): the channel is ours to close
          if (attempt.settled) return closeChannel(opened);
          try {
            start(opened);
          } catch (error) {
            attempt.reject(error as Error);
          }
        },
        (error: unknown) =>
          attempt.reject(error instanceof Error ? error : new Error(String(error))),
      );
      return () => {
        stop();
        if (handle) handle.pipe.close();
        else if (channel) closeChannel(channel);
      };
    });
}
