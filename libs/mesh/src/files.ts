/**
 * File transfer over a mesh channel: the file is cut into chunks (16 KiB, the size every
 * browser's SCTP stack passes unfragmented) and sent with backpressure, so a large file never
 * fills the data channel's buffer ("send queue is full") and chat on other channels keeps
 * flowing. The receiver reassembles in order and refuses files over its size limit.
 */
import { createEmitter, type Emitter } from '@switchyard/protocol';
import type { Mesh, MeshData, MeshPeer } from './types.ts';

/** A received file. */
export interface ReceivedFile {
  readonly name: string;
  readonly type: string;
  readonly bytes: Uint8Array;
}

/** How far a transfer is, in bytes. */
export interface FileProgress {
  readonly name: string;
  readonly size: number;
  readonly done: number;
}

export type FileTransferEvents = {
  /** Bytes of an incoming file arrived. */
  progress: (peer: MeshPeer, progress: FileProgress) => void;
  file: (peer: MeshPeer, file: ReceivedFile) => void;
  /** An incoming file was refused (too large) or broke off. */
  error: (peer: MeshPeer, error: Error) => void;
};

export interface FileTransferOptions {
  /** The channel name. @default 'file' */
  readonly channel?: string;
  /** @default 16384 */
  readonly chunkSize?: number;
  /** Larger incoming files are refused. @default 64 MiB */
  readonly maxBytes?: number;
}

export interface FileTransfer extends Omit<Emitter<FileTransferEvents>, 'emit'> {
  /** Sends `file` to one peer; resolves when the last chunk is queued on its channel. */
  send(
    peerId: string,
    file: { readonly name: string; readonly type?: string; readonly bytes: Uint8Array },
    onProgress?: (progress: FileProgress) => void,
  ): Promise<void>;
}

interface Incoming {
  readonly name: string;
  readonly type: string;
  readonly bytes: Uint8Array;
  done: number;
}

/** File transfer on `mesh`: `fileTransfer(mesh).send(peer.id, { name, bytes })`. */
export function fileTransfer(mesh: Mesh, options: FileTransferOptions = {}): FileTransfer {
  const channel = mesh.channel(options.channel ?? 'file');
  const chunkSize = options.chunkSize ?? 16 * 1024;
  const maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  const events = createEmitter<FileTransferEvents>();
  /** One transfer at a time per sender: chunks arrive in order on the one channel. */
  const incoming = new Map<string, Incoming>();

  channel.on('message', (peer, data) => receive(peer, data));

  function receive(peer: MeshPeer, data: MeshData): void {
    if (typeof data === 'string') {
      const header = parseHeader(data);
      if (!header) return;
      if (header.size > maxBytes) {
        incoming.delete(peer.id);
        events.emit('error', peer, new RangeError(`file ${header.name} is over ${maxBytes} bytes`));
        return;
      }
      const file = {
        name: header.name,
        type: header.type,
        bytes: new Uint8Array(header.size),
        done: 0,
      };
      incoming.set(peer.id, file);
      if (header.size === 0) finish(peer, file);
      return;
    }
    const file = incoming.get(peer.id);
    if (!file) return;
    if (file.done + data.length > file.bytes.length) {
      incoming.delete(peer.id);
      events.emit('error', peer, new RangeError(`file ${file.name}: more bytes than announced`));
      return;
    }
    file.bytes.set(data, file.done);
    file.done += data.length;
    events.emit('progress', peer, { name: file.name, size: file.bytes.length, done: file.done });
    if (file.done === file.bytes.length) finish(peer, file);
  }

  function finish(peer: MeshPeer, file: Incoming): void {
    incoming.delete(peer.id);
    events.emit('file', peer, { name: file.name, type: file.type, bytes: file.bytes });
  }

  return {
    on: events.on,
    once: events.once,
    off: events.off,
    listenerCount: events.listenerCount,
    async send(peerId, file, onProgress) {
      const size = file.bytes.length;
      channel.send(JSON.stringify({ name: file.name, type: file.type ?? '', size }), peerId);
      for (let offset = 0; offset < size; offset += chunkSize) {
        const chunk = file.bytes.subarray(offset, Math.min(offset + chunkSize, size));
        channel.send(chunk, peerId);
        await channel.drained(peerId);
        if (!mesh.peers.has(peerId)) throw new Error(`peer ${peerId} left during the transfer`);
        onProgress?.({ name: file.name, size, done: offset + chunk.length });
      }
    },
  };
}

function parseHeader(text: string): { name: string; type: string; size: number } | undefined {
  try {
    const value = JSON.parse(text) as { name?: unknown; type?: unknown; size?: unknown };
    const { name, type, size } = value;
    if (typeof name !== 'string' || typeof type !== 'string') return undefined;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return undefined;
    return { name, type, size };
  } catch {
    return undefined;
  }
}
