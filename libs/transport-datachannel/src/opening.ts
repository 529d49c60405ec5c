/** What both server modes share: their options, their handle, and waiting for the channel. */
import { openWithin, type Logger, type Pipe } from '@switchyard/protocol';
import {
  DATA_CHANNEL_LABEL,
  onceOpen,
  type ChannelLike,
  type PeerConnectionLike,
} from './channel.ts';
import { READY } from './channel-ops.ts';

/** Options of {@link attachDataChannel} and {@link relayDataChannel}. */
export interface DataChannelServerOptions {
  /** The connection the channel belongs to: the pipe closes when it fails. @default none */
  readonly peerConnection?: PeerConnectionLike;
  /** Close a channel that has not opened after this long. @default 10000 */
  readonly openTimeoutMs?: number;
  /** Debug lines (a channel given up on, a relay closing). @default debugLogger('switchyard:datachannel') */
  readonly log?: Logger;
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
export function sayReady(pipe: Pipe): void {
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
export function channelOpened(
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
