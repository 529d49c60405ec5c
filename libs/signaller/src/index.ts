/**
 * `@switchyard/signaller`: an rtc-signaller 6.x compatible client over any Switchyard
 * transport. Isomorphic: Node and browsers.
 *
 * @example
 * ```ts
 * import { createSignaller, ReconnectStoppedError } from '@switchyard/signaller';
 * import { webSocketConnector } from '@switchyard/transport-ws/client';
 *
 * const signaller = createSignaller(webSocketConnector('http://127.0.0.1:3000'));
 * signaller.on('peer:announce', (data) => signaller.to(data.id).send('/hello', { from: signaller.id }));
 * signaller.on('message:hello', (payload, source) => console.log('hello from', source));
 * signaller.on('error', (error) => {
 *   if (error instanceof ReconnectStoppedError) console.error('refused:', error.closeCode ?? error.refusal);
 * });
 * signaller.announce({ room: 'demo' });
 * ```
 */
export { createSignaller } from './signaller.ts';
export { defaultReconnectDelay } from './connection.ts';
export {
  OfflineQueueFullError,
  ReconnectStoppedError,
  type ReconnectStopCause,
  type SignallerErrorCode,
} from './errors.ts';
export { defaultAttributes, generateId } from './environment.ts';
// the server's refusals, re-exported so an app narrows `error` events from one import
export {
  ForbiddenError,
  SignallingError,
  UnauthorizedError,
  type TokenSource,
} from '@switchyard/protocol';
export type * from './types.ts';
