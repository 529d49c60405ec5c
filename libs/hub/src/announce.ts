/**
 * Announce validation (docs/protocol.md §3, §4.2 step 4) as a pure function: the payload is the
 * only one the hub ever parses. Everything that can fail is decided here, before any state
 * changes, so that committing an announce cannot fail halfway.
 */
import {
  idToString,
  isValidId,
  LIMITS,
  parseHeader,
  payloadOf,
  readSender,
  stringifyJson,
  type Dialect,
  type Header,
} from '@switchyard/protocol';

/** A valid announce. */
export interface Announce {
  readonly id: string;
  readonly room: string;
  /** The `token` attribute, a credential (never relayed). */
  readonly token?: string;
  /** A `token` key in a json sender field (checked like a per-message token, §4.7). */
  readonly senderToken?: unknown;
  /** Every attribute but `token`. */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** The dialect of the sender field, which fixes the connection's dialect on its first announce. */
  readonly dialect: Dialect;
  /** What the room receives: the announce as sent, or rewritten without its token. */
  readonly relayText: string;
  readonly relayHeader: Header;
}

/** The verdict on an announce: valid, or why not (sent as `/error invalid-announce`). */
export type AnnounceVerdict =
  | { readonly ok: true; readonly announce: Announce }
  | { readonly ok: false; readonly reason: string };

const refuse = (reason: string): AnnounceVerdict => ({ ok: false, reason });

/** An announce payload read, with the message as it may be relayed (its `token` removed). */
export type AnnouncePayload =
  | { readonly ok: false; readonly reason: string }
  | {
      readonly ok: true;
      readonly token: unknown;
      readonly attributes: Record<string, unknown>;
      readonly relayText: string;
      readonly relayHeader: Header;
    };

/**
 * Reads the JSON object after the sender field of an `/announce`, broadcast or inside `/to`,
 * and the message without its `token`, which is a credential and never relayed. Never throws.
 */
export function readAnnouncePayload(message: string, header: Header): AnnouncePayload {
  let parsed: unknown;
  try {
    parsed = JSON.parse(payloadOf(message, header));
  } catch {
    return { ok: false, reason: 'the announce payload must be a JSON object' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    return { ok: false, reason: 'the announce payload must be a JSON object' };
  const { token, ...attributes } = parsed as Record<string, unknown>;
  if (token === undefined)
    return { ok: true, token, attributes, relayText: message, relayHeader: header };
  let stripped: string | undefined;
  try {
    stripped = stringifyJson(attributes);
  } catch {
    // JSON.parse accepts nesting that JSON.stringify then overflows the stack on
    return { ok: false, reason: 'the announce payload is nested too deeply' };
  }
  const relayText = `${message.slice(0, header.senderEnd)}|${stripped!}`;
  return { ok: true, token, attributes, relayText, relayHeader: parseHeader(relayText) };
}

/** Validates `/announce|<sender>|{"id":…,"room":…,…}`. Never throws. */
export function parseAnnounce(message: string, header: Header): AnnounceVerdict {
  if (header.sender === undefined) return refuse('expected /announce|<id>|{"id":…,"room":…}');
  const payload = readAnnouncePayload(message, header);
  if (!payload.ok) return payload;
  const { token, attributes, relayText, relayHeader } = payload;
  const sender = readSender(header.sender);
  const id = idToString(attributes['id']);
  if (id === undefined || !isValidId(id))
    return refuse(
      `"id" must be 1..${LIMITS.maxIdLength} characters of well-formed text without | or control characters`,
    );
  if (id !== sender.id)
    return refuse(
      `"id" ${stringifyJson(id)} differs from the sender field ${stringifyJson(sender.id)}`,
    );
  const room = attributes['room'];
  if (typeof room !== 'string' || room.length === 0 || room.length > LIMITS.maxRoomLength)
    return refuse(`"room" must be a string of 1..${LIMITS.maxRoomLength} characters`);
  if (token !== undefined && typeof token !== 'string') return refuse('"token" must be a string');
  return {
    ok: true,
    announce: {
      id,
      room,
      ...(token !== undefined && { token }),
      ...(sender.extra?.['token'] !== undefined && { senderToken: sender.extra['token'] }),
      attributes,
      dialect: sender.dialect,
      relayText,
      relayHeader,
    },
  };
}
