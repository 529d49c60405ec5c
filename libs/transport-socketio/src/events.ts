/**
 * The Socket.IO event names both halves agree on. Browser-safe: the client half imports this.
 */

/**
 * One protocol message, one string argument, in both directions: what
 * `rtc-signaller-socket.io@2.3.0` emits and listens for, so original clients interoperate.
 */
export const SIGNAL_EVENT = 'rtc-signal';

/**
 * Server → client, `(code: number, reason: string)`, emitted right before a server-side close:
 * a Socket.IO disconnect carries no code, and the signaller needs 4001/4003/4009 to know that
 * reconnecting would only repeat the refusal. Original clients have no listener and ignore it.
 */
export const CLOSE_EVENT = 'rtc-close';

/**
 * Server → client with an acknowledgement, no arguments: the liveness probe behind
 * `pipe.isAlive()`. Switchyard clients acknowledge at once; original clients never do, so a
 * probe of one of them times out and reads as "not alive".
 */
export const PROBE_EVENT = 'rtc-probe';
