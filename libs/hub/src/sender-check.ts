/**
 * The sender field of a member's message (docs/protocol.md §4.2 step 6), as a pure function: it
 * must exist, be bounded, and name the member's id in either dialect. The fast path is two string
 * compares (the exact bare or json stamp); anything else is read, and a json field may carry a
 * per-message `token` (§4.7), returned for the hub to check. Never throws.
 */
import { LIMITS, readSender, stringifyJson, type ErrorCode } from '@switchyard/protocol';
import type { SenderStamp } from './frame.ts';

/** The verdict on a sender field. */
export type SenderVerdict =
  | { readonly ok: true; readonly token?: unknown }
  | { readonly ok: false; readonly code: ErrorCode; readonly reason: string };

const OK: SenderVerdict = { ok: true };

/** Checks `sender` (undefined when the message has none) against the member `id`. */
export function checkSender(
  sender: string | undefined,
  command: string,
  id: string,
  stamp: SenderStamp,
): SenderVerdict {
  if (sender === undefined)
    return { ok: false, code: 'malformed', reason: `missing sender field: ${command}|<sender>|…` };
  if (sender === id || sender === stamp.json) return OK;
  if (sender.length > LIMITS.maxSenderLength)
    return {
      ok: false,
      code: 'malformed',
      reason: `the sender field is limited to ${LIMITS.maxSenderLength} characters`,
    };
  const read = readSender(sender);
  if (read.id !== id)
    return {
      ok: false,
      code: 'sender-mismatch',
      reason: `this connection speaks as ${stringifyJson(id)}`,
    };
  const token = read.extra?.['token'];
  return token === undefined ? OK : { ok: true, token };
}
