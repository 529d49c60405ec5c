/**
 * Pipe operations for the two channel shapes, as prototype methods: a server holds one per
 * connection, and per-connection closures would cost memory.
 */
import {
  debugLogger,
  definePipe,
  type Logger,
  type PipeHandle,
  type PipeOps,
} from '@switchyard/protocol';
import {
  closeChannel,
  isSimplePeer,
  TRANSPORT,
  type ChannelEvent,
  type ChannelEventListener,
  type ChannelLike,
  type DataChannelLike,
  type EmitterListener,
  type PeerConnectionLike,
  type SimplePeerLike,
} from './channel.ts';

/**
 * The one transport-level message (U+0006, never a protocol message, which starts with `/`).
 * The server half sends it once it listens on the channel and answers each one it receives; the
 * client half sends one and waits for an answer before it speaks. Why: `@roamhq/wrtc` can
 * reorder the first messages on a channel its far side just announced (they race the creation
 * of the JS channel object), which could put a frame before its `/announce`.
 */
export const READY = '\u0006';

/** The logger both halves use unless given one. */
export const defaultLog: Logger = debugLogger('switchyard:datachannel');

/** Which half wraps the channel. */
export type Role = 'server' | 'client';

/** Options shared by every wrapped channel. */
export interface BindOptions {
  /** Close the pipe when this connection fails; `isAlive` is false while it is disconnected. */
  readonly peerConnection?: PeerConnectionLike | undefined;
  /**
   * The server reports binary as unreadable (the hub answers `/error malformed` inside its rate
   * limit) and answers READY with READY; the client drops binary with a debug line.
   */
  readonly role: Role;
  /** Client: the far side answered READY. */
  readonly onReady?: (() => void) | undefined;
  /** Debug lines (binary input dropped, peer connection failed). */
  readonly log: Logger;
}

/** What both ops classes share for delivering input. */
interface Receiver {
  readonly handle: PipeHandle;
  readonly options: BindOptions;
  send(message: string): void;
}

function receiveText(receiver: Receiver, message: string): void {
  if (message !== READY) return receiver.handle.receive(message);
  if (receiver.options.role === 'client') return receiver.options.onReady?.();
  try {
    receiver.send(READY);
  } catch {
    // closed meanwhile
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function refuseBinary(receiver: Receiver): void {
  if (receiver.options.role === 'server') return receiver.handle.unreadable('binary messages');
  receiver.options.log('debug', 'ignored a binary message (the protocol is text only)');
}

function asError(value: unknown, fallback: string): Error {
  if (value instanceof Error) return value;
  const message = (value as { message?: unknown } | undefined)?.message;
  return new Error(typeof message === 'string' && message !== '' ? message : fallback);
}

/** What a pipe reports when it closes; a local close keeps the code and reason it was given. */
interface CloseDetails {
  readonly local?: boolean;
  readonly code?: number | undefined;
  readonly reason?: string | undefined;
  readonly error?: Error;
}

const PEER_EVENTS = ['connectionstatechange', 'iceconnectionstatechange'];
const CHANNEL_EVENTS = ['message', 'error', 'close'];

/** 'failed' or 'closed' ends the pipe; 'disconnected' only fails the liveness probe (ICE may recover). */
function peerState(pc: PeerConnectionLike): 'up' | 'disconnected' | 'gone' {
  const states = [pc.connectionState, pc.iceConnectionState];
  if (states.includes('failed') || states.includes('closed')) return 'gone';
  return states.includes('disconnected') ? 'disconnected' : 'up';
}

/** Pipe operations and event handling of one RTCDataChannel, as prototype methods. */
class DataChannelOps implements PipeOps, ChannelEventListener, Receiver {
  handle!: PipeHandle;
  private error: Error | undefined;
  private attached = true;
  private closing: CloseDetails | undefined;

  constructor(
    private readonly channel: DataChannelLike,
    readonly options: BindOptions,
  ) {}

  attach(): void {
    for (const type of CHANNEL_EVENTS) this.channel.addEventListener(type, this);
    for (const type of PEER_EVENTS) this.options.peerConnection?.addEventListener(type, this);
  }

  handleEvent(event: ChannelEvent): void {
    if (event.type === 'message') {
      if (typeof event.data === 'string') receiveText(this, event.data);
      else refuseBinary(this);
    } else if (event.type === 'error') {
      this.error = asError(event.error, 'data channel error');
    } else if (event.type === 'close') {
      this.finish({});
    } else if (this.options.peerConnection && peerState(this.options.peerConnection) === 'gone') {
      this.options.log('debug', 'peer connection failed; closing the pipe');
      closeChannel(this.channel);
      this.finish({ error: new Error('the peer connection failed') });
    }
  }

  send(message: string): void {
    this.channel.send(message);
  }

  close(code?: number, reason?: string): void {
    this.closing = { local: true, code, reason };
    closeChannel(this.channel);
    // report at once: a channel can hang in 'closing' (and never fire close) if the far end is gone
    queueMicrotask(() => this.finish({}));
  }

  bufferedAmount(): number {
    return this.channel.bufferedAmount;
  }

  isAlive(): Promise<boolean> {
    const pc = this.options.peerConnection;
    return Promise.resolve(
      this.channel.readyState === 'open' && (pc === undefined || peerState(pc) === 'up'),
    );
  }

  private finish(info: CloseDetails): void {
    if (this.attached) {
      this.attached = false;
      for (const type of CHANNEL_EVENTS) this.channel.removeEventListener(type, this);
      for (const type of PEER_EVENTS) this.options.peerConnection?.removeEventListener(type, this);
    }
    const error = info.error ?? this.error;
    this.handle.closed({ ...this.closing, ...info, ...(error && { error }) });
  }
}

const BINDING = Symbol('switchyard.datachannel');
type TaggedPeer = SimplePeerLike & { [BINDING]?: SimplePeerOps };

/** Pipe operations of one simple-peer instance; its events reach it through shared listeners. */
class SimplePeerOps implements PipeOps, Receiver {
  handle!: PipeHandle;
  error: Error | undefined;
  iceState = 'connected';
  private closing: CloseDetails | undefined;

  constructor(
    private readonly peer: TaggedPeer,
    readonly options: BindOptions,
  ) {}

  attach(): void {
    this.peer[BINDING] = this;
    this.peer.on('data', onPeerData as EmitterListener);
    this.peer.on('close', onPeerClose as EmitterListener);
    // kept after close: an 'error' without a listener would throw out of simple-peer
    this.peer.on('error', onPeerError as EmitterListener);
    this.peer.on('iceStateChange', onPeerIceState as EmitterListener);
  }

  private get objectMode(): boolean {
    return this.peer.readableObjectMode ?? this.peer._readableState?.objectMode ?? false;
  }

  data(chunk: unknown): void {
    if (typeof chunk === 'string') return receiveText(this, chunk);
    // without objectMode simple-peer hands text over as Buffers too: valid UTF-8 counts as text
    if (chunk instanceof Uint8Array && !this.objectMode) {
      let text: string | undefined;
      try {
        text = utf8.decode(chunk);
      } catch {
        text = undefined;
      }
      if (text !== undefined) return receiveText(this, text);
    }
    refuseBinary(this);
  }

  send(message: string): void {
    this.peer.send(message);
  }

  close(code?: number, reason?: string): void {
    this.closing = { local: true, code, reason };
    closeChannel(this.peer);
    queueMicrotask(() => this.finish({}));
  }

  bufferedAmount(): number {
    return this.peer.bufferSize;
  }

  isAlive(): Promise<boolean> {
    return Promise.resolve(this.peer.connected && this.iceState !== 'disconnected');
  }

  finish(info: CloseDetails): void {
    if (this.peer[BINDING] === this) {
      this.peer.removeListener('data', onPeerData as EmitterListener);
      this.peer.removeListener('close', onPeerClose as EmitterListener);
      this.peer.removeListener('iceStateChange', onPeerIceState as EmitterListener);
      this.peer[BINDING] = undefined;
    }
    this.handle.closed({ ...this.closing, ...info, ...(this.error && { error: this.error }) });
  }
}

// Shared listeners (`this` is the peer): no closures per connection.
function onPeerData(this: TaggedPeer, chunk: unknown): void {
  this[BINDING]?.data(chunk);
}
function onPeerClose(this: TaggedPeer): void {
  this[BINDING]?.finish({});
}
function onPeerError(this: TaggedPeer, error: Error): void {
  const ops = this[BINDING];
  if (ops) ops.error = error;
}
function onPeerIceState(this: TaggedPeer, state: string): void {
  const ops = this[BINDING];
  if (ops) ops.iceState = state;
}

/** Wraps an open, reliable channel as a pipe. */
export function bindChannel(channel: ChannelLike, options: BindOptions): PipeHandle {
  const ops = isSimplePeer(channel)
    ? new SimplePeerOps(channel, options)
    : new DataChannelOps(channel, options);
  ops.handle = definePipe(TRANSPORT, ops);
  ops.attach();
  return ops.handle;
}
