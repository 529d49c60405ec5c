/**
 * Named channels over one data channel. The default channel goes out as is, so an original
 * rtc-quickconnect peer reads it unchanged; a named channel's message is prefixed with a NUL
 * and its name (text: `\0<name>\0<data>`; bytes: `0x00, name length, name, data`). A default
 * message that itself starts with NUL is framed with the empty name, so nothing is ambiguous.
 */
import type { MeshData } from './types.ts';

/** The default channel's name. */
export const DEFAULT_CHANNEL = '';
const NUL = '\u0000';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One message on the wire for `channel`. */
export function frame(channel: string, data: MeshData): MeshData {
  if (typeof data === 'string') {
    if (channel === DEFAULT_CHANNEL && !data.startsWith(NUL)) return data;
    return `${NUL}${channel}${NUL}${data}`;
  }
  if (channel === DEFAULT_CHANNEL && data[0] !== 0) return data;
  const name = encoder.encode(channel);
  if (name.length > 255) throw new RangeError(`a channel name is at most 255 bytes: ${channel}`);
  const out = new Uint8Array(2 + name.length + data.length);
  out[1] = name.length;
  out.set(name, 2);
  out.set(data, 2 + name.length);
  return out;
}

/** The channel and data of a received message, or undefined for a malformed frame. */
export function unframe(message: MeshData): { channel: string; data: MeshData } | undefined {
  if (typeof message === 'string') {
    if (!message.startsWith(NUL)) return { channel: DEFAULT_CHANNEL, data: message };
    const end = message.indexOf(NUL, 1);
    if (end < 0) return undefined;
    return { channel: message.slice(1, end), data: message.slice(end + 1) };
  }
  if (message[0] !== 0) return { channel: DEFAULT_CHANNEL, data: message };
  const length = message[1];
  if (length === undefined || message.length < 2 + length) return undefined;
  return {
    channel: decoder.decode(message.subarray(2, 2 + length)),
    data: message.subarray(2 + length),
  };
}

/** simple-peer hands text as strings (object mode) and bytes as Buffer or ArrayBuffer. */
export function asMeshData(data: unknown): MeshData | undefined {
  if (typeof data === 'string') return data;
  if (data instanceof Uint8Array) return new Uint8Array(data.buffer, data.byteOffset, data.length);
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return undefined;
}
