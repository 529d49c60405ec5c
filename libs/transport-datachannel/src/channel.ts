/**
 * The glue between a data channel and a `Pipe`, shared by both halves. Two shapes of channel
 * are accepted: the RTCDataChannel event API (browsers, `@roamhq/wrtc`) and simple-peer's
 * stream API. Browser-safe: no `node:` imports.
 */

/** The `transport` name of every data-channel pipe. */
export const TRANSPORT = 'datachannel';

/** The label Switchyard channels carry, so the answering side can tell them from app channels. */
export const DATA_CHANNEL_LABEL = 'switchyard';

/** An event as RTCDataChannel and RTCPeerConnection dispatch it. */
export interface ChannelEvent {
  readonly type: string;
  readonly data?: unknown;
  readonly error?: unknown;
}

/** A listener object (`handleEvent`): one per connection instead of one closure per event. */
export interface ChannelEventListener {
  handleEvent(event: ChannelEvent): void;
}

/** The RTCDataChannel surface the transport uses (native, `@roamhq/wrtc`). */
export interface DataChannelLike {
  readonly label?: string;
  /** `'connecting' | 'open' | 'closing' | 'closed'` */
  readonly readyState: string;
  readonly bufferedAmount: number;
  readonly ordered?: boolean;
  readonly maxRetransmits?: number | null;
  readonly maxPacketLifeTime?: number | null;
  send(data: string): void;
  close(): void;
  addEventListener(type: string, listener: ChannelEventListener): void;
  removeEventListener(type: string, listener: ChannelEventListener): void;
}

/** The RTCPeerConnection surface used to close a pipe when the connection fails. */
export interface PeerConnectionLike {
  readonly connectionState?: string;
  readonly iceConnectionState: string;
  addEventListener(type: string, listener: ChannelEventListener): void;
  removeEventListener(type: string, listener: ChannelEventListener): void;
}

/** A listener as Node's EventEmitter calls it (simple-peer is a Duplex stream). */
export type EmitterListener = (...args: never[]) => void;

/** The simple-peer surface the transport uses (a `SimplePeer.Instance`). */
export interface SimplePeerLike {
  readonly connected: boolean;
  readonly destroyed: boolean;
  readonly bufferSize: number;
  /**
   * True when created with `objectMode: true`: text then arrives as strings, binary as Buffers.
   * simple-peer's streams (`readable-stream` 3) lack this getter: see `_readableState`.
   */
  readonly readableObjectMode?: boolean;
  /** Where `readable-stream` keeps `objectMode`. */
  readonly _readableState?: { readonly objectMode?: boolean };
  send(data: string): void;
  destroy(error?: Error): void;
  on(event: string, listener: EmitterListener): unknown;
  removeListener(event: string, listener: EmitterListener): unknown;
}

/** Anything the transport can wrap. */
export type ChannelLike = DataChannelLike | SimplePeerLike;

/** Whether `channel` is a simple-peer instance rather than an RTCDataChannel. */
export function isSimplePeer(channel: ChannelLike): channel is SimplePeerLike {
  return typeof (channel as Partial<SimplePeerLike>).destroy === 'function';
}

/** Whether the channel can carry messages now. */
export function isOpen(channel: ChannelLike): boolean {
  return isSimplePeer(channel) ? channel.connected : channel.readyState === 'open';
}

function isEnded(channel: ChannelLike): boolean {
  return isSimplePeer(channel)
    ? channel.destroyed
    : channel.readyState === 'closing' || channel.readyState === 'closed';
}

/** Closes a channel (simple-peer: destroys the peer) without throwing. */
export function closeChannel(channel: ChannelLike): void {
  try {
    if (isSimplePeer(channel)) channel.destroy();
    else channel.close();
  } catch {
    // already closed: nothing to do
  }
}

/** The protocol needs order and every message: refuse unordered or partially reliable channels. */
export function assertReliable(channel: ChannelLike): void {
  if (isSimplePeer(channel)) return; // simple-peer's channel is ordered and reliable unless told otherwise
  // unset is null in browsers and 65535 (uint16 max) in @roamhq/wrtc
  const partial = (value: number | null | undefined) =>
    value !== null && value !== undefined && value !== 0xffff;
  if (
    channel.ordered === false ||
    partial(channel.maxRetransmits) ||
    partial(channel.maxPacketLifeTime)
  ) {
    throw new TypeError('switchyard needs an ordered, reliable data channel');
  }
}

/**
 * Calls `onOpen` synchronously inside the channel's open event (so its listeners are in place
 * before any message is dispatched; at once if it is open already), or `onEnd` when the channel
 * closes or fails first. Returns the function that stops watching; deadlines and aborts are
 * the caller's (`openWithin`).
 */
export function onceOpen(
  channel: ChannelLike,
  onOpen: () => void,
  onEnd: (error: Error) => void,
): () => void {
  if (isOpen(channel)) {
    onOpen();
    return () => undefined;
  }
  if (isEnded(channel)) {
    onEnd(new Error('the data channel is closed'));
    return () => undefined;
  }
  let watching = true;
  const stop = () => {
    if (!watching) return;
    watching = false;
    if (isSimplePeer(channel)) {
      channel.removeListener('connect', onConnect);
      channel.removeListener('close', onClosed);
      channel.removeListener('error', onClosed);
    } else
      for (const type of ['open', 'close', 'error']) channel.removeEventListener(type, watcher);
  };
  const onConnect = () => {
    stop();
    onOpen();
  };
  const onClosed = () => {
    stop();
    onEnd(new Error('the data channel closed before it opened'));
  };
  const watcher: ChannelEventListener = {
    handleEvent: (event) => (event.type === 'open' ? onConnect() : onClosed()),
  };
  if (isSimplePeer(channel)) {
    channel.on('connect', onConnect);
    channel.on('close', onClosed);
    channel.on('error', onClosed);
  } else for (const type of ['open', 'close', 'error']) channel.addEventListener(type, watcher);
  return stop;
}
