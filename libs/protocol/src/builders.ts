/** Builders for the messages a server or client writes itself. */
import { stringifyJson } from './codec.ts';
import type { ErrorCode, ErrorDetails } from './errors.ts';
import { senderField, type Dialect } from './sender.ts';

/** `/announce|<sender>|<attributes>`; the attributes must carry `id` and `room`. */
export function announceMessage(
  sender: string,
  attributes: Readonly<Record<string, unknown>>,
): string {
  return `/announce|${sender}|${stringifyJson(attributes)}`;
}

/** `/to|<target>|<inner message>`, where the inner message carries its own sender field. */
export function toMessage(target: string, inner: string): string {
  return `/to|${target}|${inner}`;
}

/**
 * Why the server says a peer left (docs/protocol.md §4.2 step 8): it sent `/leave`, its grace
 * window ended after a hard disconnect, it announced into another room, its id was taken over
 * by a new connection, or the server shut down.
 */
export type LeaveReason = 'leave' | 'disconnect' | 'moved' | 'replaced' | 'shutdown';

/**
 * `/leave|<sender>|{"id":"<id>"}` in the given dialect; the server's own adds **[ext]**
 * `"reason"`, which original clients ignore (they read `id`).
 */
export function leaveMessage(id: string, dialect: Dialect, reason?: LeaveReason): string {
  const payload = reason === undefined ? { id } : { id, reason };
  return `/leave|${senderField(id, dialect)}|${stringifyJson(payload)}`;
}

/** Room details a server sends the announcer. Extra keys are an extension original clients ignore. */
export interface RoomInfo {
  readonly memberCount: number;
  readonly [key: string]: unknown;
}

/** `/roominfo|{"memberCount":N}`: no sender field. */
export function roomInfoMessage(info: RoomInfo): string {
  return `/roominfo|${stringifyJson(info)}`;
}

/** `/error|{"code":…,"message":…}`: no sender field. */
export function errorMessage(code: ErrorCode, message: string, details: ErrorDetails = {}): string {
  return `/error|${stringifyJson({ ...details, code, message })}`;
}
