/**
 * Header parsing for routing: finds the command, the `/to` target and the sender field with
 * `indexOf`, and never looks at the payload (docs/architecture.md, "Hot path"). Never throws.
 */
import { SEPARATOR } from './codec.ts';

/** Where the routing-relevant parts of a message are. Payload text is never copied. */
export interface Header {
  /** Field 0: `/chat`, `/to`, `/announce`, or a non-command word. */
  readonly command: string;
  /** For `/to`: the target id field. */
  readonly target?: string;
  /** For `/to`: the wrapped command (field 2). */
  readonly innerCommand?: string;
  /** The sender field (field 1, or field 3 of `/to`), if the message has one. */
  readonly sender?: string;
  /** Offset of the sender field in the message (equals `senderEnd` when absent). */
  readonly senderStart: number;
  /** Offset just past the sender field: `message.slice(senderEnd)` is `''` or `|payload…`. */
  readonly senderEnd: number;
}

function fieldEnd(message: string, from: number): number {
  const at = message.indexOf(SEPARATOR, from);
  return at === -1 ? message.length : at;
}

/** Parses the header of one message. Returns the fields that exist; absent ones are undefined. */
export function parseHeader(message: string): Header {
  const commandEnd = fieldEnd(message, 0);
  const command = message.slice(0, commandEnd);
  if (commandEnd === message.length) {
    return { command, senderStart: commandEnd, senderEnd: commandEnd };
  }
  if (command !== '/to') {
    const senderEnd = fieldEnd(message, commandEnd + 1);
    return {
      command,
      sender: message.slice(commandEnd + 1, senderEnd),
      senderStart: commandEnd + 1,
      senderEnd,
    };
  }
  const targetEnd = fieldEnd(message, commandEnd + 1);
  const target = message.slice(commandEnd + 1, targetEnd);
  if (targetEnd === message.length)
    return { command, target, senderStart: targetEnd, senderEnd: targetEnd };
  const innerEnd = fieldEnd(message, targetEnd + 1);
  const innerCommand = message.slice(targetEnd + 1, innerEnd);
  if (innerEnd === message.length) {
    return { command, target, innerCommand, senderStart: innerEnd, senderEnd: innerEnd };
  }
  const senderEnd = fieldEnd(message, innerEnd + 1);
  return {
    command,
    target,
    innerCommand,
    sender: message.slice(innerEnd + 1, senderEnd),
    senderStart: innerEnd + 1,
    senderEnd,
  };
}

/** The payload text after the sender field (fields 2..N joined), or `''` when there is none. */
export function payloadOf(message: string, header: Header): string {
  return header.senderEnd < message.length ? message.slice(header.senderEnd + 1) : '';
}

/** The message with its sender field replaced; returns the message itself when unchanged. */
export function replaceSender(message: string, header: Header, sender: string): string {
  if (header.sender === sender) return message;
  return message.slice(0, header.senderStart) + sender + message.slice(header.senderEnd);
}
