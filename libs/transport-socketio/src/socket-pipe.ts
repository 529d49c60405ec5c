/**
 * One Socket.IO socket as a pipe: its operations as prototype methods and listeners shared by
 * every socket (`this` is the socket), so a connection costs no closures.
 */
import type { DisconnectReason, Socket } from 'socket.io';
import {
  CloseCode,
  definePipe,
  probeWithin,
  type CloseInfo,
  type ConnectionContext,
  type PipeHandle,
  type PipeOps,
} from '@switchyard/protocol';
import { CLOSE_EVENT, PROBE_EVENT, SIGNAL_EVENT } from './events.ts';

/** engine.io's packet writer, which its TypeScript types keep private. */
interface EnginePing {
  sendPacket(type: 'ping'): void;
}

/**
 * socket.io's own broadcast path, which its TypeScript types keep private: the adapter encodes a
 * packet once (with the WebSocket frame precomputed) and the client writes it as is.
 */
interface PreEncoding {
  _encode(packet: SignalPacket, options: Record<string, unknown>): unknown[];
}
interface PreEncodedClient {
  _packet(packets: unknown[], options: Record<string, unknown>): void;
}
interface SignalPacket {
  readonly type: 2; // EVENT
  readonly nsp: string;
  readonly data: readonly [string, string];
}

/**
 * The last message sent and its encoding. The hub hands a broadcast to every member's pipe in
 * turn with the same string, so each broadcast is encoded once, as `io.to(room).emit` would be.
 */
let last:
  | { nsp: string; message: string; packets: unknown[]; options: Record<string, unknown> }
  | undefined;

/** How long a server-initiated close may wait for engine.io to flush what is queued. */
const CLOSE_FLUSH_MS = 1000;

// Server-side disconnect reasons mapped to the WebSocket close codes the hub reports.
const CLOSE_CODES: Partial<Record<DisconnectReason, number>> = {
  'client namespace disconnect': CloseCode.normal,
  'server shutting down': CloseCode.goingAway,
  'forced server close': CloseCode.goingAway,
  'parse error': CloseCode.protocolError,
};
const UNREADABLE = `events other than "${SIGNAL_EVENT}" with one string argument`;

export const OPS = Symbol('switchyard.socket-io.ops');
export type Tagged<T> = T & { [OPS]: SocketOps };

/** The pipe operations of one socket, as prototype methods: no closures per connection. */
export class SocketOps implements PipeOps {
  readonly handle: PipeHandle;
  /** Characters emitted since engine.io last handed its write buffer to the transport. */
  queued = 0;
  closedWith: Partial<CloseInfo> = {};

  constructor(private readonly socket: Socket) {
    this.handle = definePipe('socket.io', this);
  }
  send(message: string): void {
    this.queued += message.length;
    const adapter = this.socket.nsp.adapter as unknown as Partial<PreEncoding>;
    if (typeof adapter._encode !== 'function') return void this.socket.emit(SIGNAL_EVENT, message);
    const nsp = this.socket.nsp.name;
    if (last?.message !== message || last.nsp !== nsp) {
      const options = { preEncoded: true };
      const packet: SignalPacket = { type: 2, nsp, data: [SIGNAL_EVENT, message] };
      last = { nsp, message, packets: adapter._encode(packet, options), options };
    }
    (this.socket.client as unknown as PreEncodedClient)._packet(last.packets, last.options);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code: code ?? CloseCode.normal, ...(reason !== undefined && { reason }) };
    if (code !== undefined) this.socket.emit(CLOSE_EVENT, code, reason ?? '');
    // engine.io flushes what is queued (the close event included) before it closes the
    // transport: a peer that never reads would hold the connection until its ping timeout
    const conn = this.socket.conn;
    this.socket.disconnect(true);
    if (conn.readyState === 'closed') return;
    const deadline = setTimeout(() => conn.close(true), CLOSE_FLUSH_MS);
    deadline.unref();
    conn.once('close', () => clearTimeout(deadline));
  }
  bufferedAmount(): number {
    return this.queued;
  }
  /**
   * Alive on any evidence inside `timeoutMs`: an acknowledged `rtc-probe` (the client half), or
   * an Engine.IO heartbeat, which every client library sends by itself. On protocol 4 the probe
   * sends an extra Engine.IO ping, so original clients without an `rtc-probe` listener answer
   * too; protocol 3 clients ping on their own schedule, so for them a heartbeat rarely falls in
   * the window.
   */
  isAlive(timeoutMs: number): Promise<boolean> {
    const conn = this.socket.conn;
    return probeWithin(timeoutMs, (settle) => {
      const onHeartbeat = () => settle(true);
      conn.on('heartbeat', onHeartbeat);
      this.socket
        .timeout(timeoutMs)
        .emit(PROBE_EVENT, (error: Error | null) => error || settle(true));
      if (conn.protocol !== 3) (conn as unknown as EnginePing).sendPacket('ping');
      return () => conn.off('heartbeat', onHeartbeat);
    });
  }
}

// Shared listeners; `this` is the socket (or its engine.io connection).
export function onAnyEvent(this: Socket, event: unknown, ...args: unknown[]): void {
  const ops = (this as Tagged<Socket>)[OPS];
  const message = args[0];
  if (event === SIGNAL_EVENT && args.length === 1 && typeof message === 'string')
    ops.handle.receive(message);
  else ops.handle.unreadable(UNREADABLE);
}

export function onDisconnect(this: Socket, reason: DisconnectReason): void {
  const ops = (this as Tagged<Socket>)[OPS];
  ops.handle.closed(
    reason === 'server namespace disconnect'
      ? ops.closedWith
      : { code: CLOSE_CODES[reason] ?? CloseCode.abnormal, reason },
  );
}

export function onDrain(this: Socket['conn']): void {
  (this as Tagged<Socket['conn']>)[OPS].queued = 0;
}

export function contextOf(socket: Socket): ConnectionContext {
  const { auth, query, address, headers } = socket.handshake;
  const token =
    typeof auth['token'] === 'string'
      ? auth['token']
      : typeof query['token'] === 'string'
        ? query['token']
        : undefined;
  return {
    transport: 'socket.io',
    ...(address && { remoteAddress: address }),
    ...(headers.origin !== undefined && { origin: headers.origin }),
    ...(token !== undefined && { credentials: { token } }),
  };
}
