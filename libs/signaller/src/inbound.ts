/**
 * Inbound dispatch and the peer registry: turns each received frame into rtc-signaller events,
 * remembers announced peers, and answers a new peer's broadcast announce with our own.
 */
import {
  decodeField,
  errorFromPayload,
  parseHeader,
  readSender,
  SEPARATOR,
  splitFields,
  toMessage,
  type Emitter,
  type Header,
  type RoomInfo,
  type SignallingError,
} from '@switchyard/protocol';
import type { PeerData, PeerRecord, SignallerEvents } from './types.ts';

/** What inbound dispatch needs from the signaller that owns it. */
export interface InboundContext {
  /** Our id as a string, the form ids are compared in. */
  readonly myId: string;
  readonly events: Emitter<SignallerEvents>;
  readonly peers: Map<string, PeerRecord>;
  /** Reply to new peers' broadcast announces with a `/to` announce. */
  readonly autoreply: boolean;
  /** Our current `/announce` frame, for the auto-reply. */
  announceFrame(): string;
  /** Sends (or queues) a frame. */
  write(frame: string): void;
  /** Sees each server `/error` before listeners do (the connection notes refusals). */
  onServerError(error: SignallingError): void;
}

/** The message a `/to` wraps: everything after `/to|<target>|`. */
function wrappedMessage(message: string, header: Header): string {
  return message.slice(header.command.length + header.target!.length + 2 * SEPARATOR.length);
}

/** Creates the handler for every frame the connection receives. */
export function createReceiver(context: InboundContext): (message: string) => void {
  const { myId, events, peers } = context;

  function receive(message: string): void {
    // Primus, which rtc-switchboard 2.x ran on, interleaves `primus::ping::<ts>` heartbeat text
    // frames with the protocol's; they are no protocol message, so not even `rawdata` sees them.
    if (message.startsWith('primus')) return;
    let body = message;
    let isDM = false;
    const header = parseHeader(message);
    if (header.command === '/to') {
      // whole-field comparison: a prefix of another id never matches (docs/conformance.md Q8)
      if (header.target !== myId || header.innerCommand === undefined) return;
      body = wrappedMessage(message, header);
      isDM = true;
    }
    events.emit('rawdata', message);
    const raw = splitFields(body);
    const command = raw[0]!;
    if (command === '/roominfo' || command === '/error') {
      const payload = decodeField(raw[1] ?? '');
      if (command === '/roominfo') events.emit('roominfo', payload as RoomInfo);
      else {
        const error = errorFromPayload(payload);
        context.onServerError(error);
        events.emit('error', error);
      }
      events.emit(`message:${command.slice(1)}`, payload, message);
      return;
    }
    if (typeof decodeField(command) !== 'string') return;
    const senderId = raw.length > 1 ? readSender(raw[1]!).id : undefined;
    if (senderId === myId) return;
    const payload = raw.slice(2).map(decodeField);
    const source = (senderId !== undefined && peers.get(senderId)) || { id: senderId ?? '' };
    if (!command.startsWith('/')) {
      events.emit('data', [command, ...payload], senderId, source, isDM);
      return;
    }
    const name = command.slice(1);
    if (name === 'announce') return receiveAnnounce(payload[0], senderId, isDM);
    events.emit(`message:${name}`, ...payload, source, message);
    if (name === 'leave' && senderId !== undefined) forget(senderId);
  }

  function receiveAnnounce(data: unknown, senderId: string | undefined, isDM: boolean): void {
    if (data === null || typeof data !== 'object') return;
    const announced = data as { readonly id?: unknown };
    if (announced.id === undefined || announced.id === null) return;
    const peerId = String(announced.id);
    const peerData = { ...data, id: peerId } as PeerData;
    if (peerId === myId) return;
    const filter = { allow: true, ...peerData };
    events.emit('peer:filter', peerId, filter);
    if (!filter.allow) return;
    events.emit('peer:connected', peerId, peerData);
    const known = peers.get(peerId);
    if (known) {
      known.data = { ...known.data, ...peerData };
      events.emit('peer:update', peerData, senderId ?? peerId);
      return;
    }
    const record: PeerRecord = {
      id: peerId,
      roleIdx: [peerId, myId].sort().indexOf(peerId),
      data: { ...peerData },
    };
    peers.set(peerId, record);
    // announces that arrive inside /to are replies: answering them would loop
    if (context.autoreply && !isDM) context.write(toMessage(peerId, context.announceFrame()));
    events.emit('peer:announce', peerData, record);
  }

  function forget(peerId: string): void {
    const peer = peers.get(peerId);
    if (!peer) return;
    peers.delete(peerId);
    events.emit('peer:leave', peerId, peer);
  }

  return receive;
}
