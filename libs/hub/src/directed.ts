/**
 * What `/to` may carry (docs/protocol.md §4.2 step 7). The hub stamps the outer sender, but the
 * recipient acts on the inner command, so an inner command that speaks for the server or for
 * another peer would be a forgery: `/error` (a forged `id-taken` stops a victim reconnecting),
 * `/roominfo`, `/leave` (goes to the room, never to one peer), a nested `/to`, and an `/announce`
 * whose `id` is not the sender's. A directed `/announce` (the reply to a broadcast announce) also
 * loses its `token` here, like a broadcast one. Only announces are parsed: other payloads pass
 * as text.
 */
import { idToString, stringifyJson, type ErrorCode, type Header } from '@switchyard/protocol';
import { readAnnouncePayload } from './announce.ts';

/** Inner commands no peer may send to another. */
const NEVER_DIRECTED = new Set(['/error', '/roominfo', '/leave', '/to']);

/** A refusal, sent as `/error <code>`. */
export interface DirectedRefusal {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly reason: string;
}

/** The message to relay (rewritten when a token was stripped), or why it is refused. */
export type DirectedVerdict =
  { readonly ok: true; readonly text: string; readonly header: Header } | DirectedRefusal;

const refuse = (code: ErrorCode, reason: string): DirectedRefusal => ({ ok: false, code, reason });

/** Checks a `/to` from the member `senderId` whose sender field is already verified. */
export function checkDirected(message: string, header: Header, senderId: string): DirectedVerdict {
  const inner = header.innerCommand!;
  if (header.target === senderId)
    return refuse('unknown-target', '/to needs another peer: a message to yourself is not echoed');
  if (NEVER_DIRECTED.has(inner))
    return refuse(
      'malformed',
      inner === '/leave'
        ? '/leave goes to the room: send /leave|<me>|{"id":"<me>"} without /to'
        : `${inner} cannot be sent with /to`,
    );
  if (inner !== '/announce') return { ok: true, text: message, header };
  return checkAnnounce(message, header, senderId);
}

function checkAnnounce(message: string, header: Header, senderId: string): DirectedVerdict {
  const payload = readAnnouncePayload(message, header);
  if (!payload.ok) return refuse('invalid-announce', payload.reason);
  if (idToString(payload.attributes['id']) !== senderId)
    return refuse(
      'sender-mismatch',
      `an announce speaks for its sender only: "id" must be ${stringifyJson(senderId)}`,
    );
  return { ok: true, text: payload.relayText, header: payload.relayHeader };
}
