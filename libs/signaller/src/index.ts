/**
 * `@switchyard/signaller`: an rtc-signaller 6.x compatible client over any Switchyard
 * transport. Isomorphic: Node and browsers.
 *
 * @example
 * ```ts
 * import { createSignaller } from '@switchyard/signaller';
 * import { webSocketConnector } from '@switchyard/transport-ws/client';
 *
 * const signaller = createSignaller(webSocketConnector('http://127.0.0.1:3000'));
 * signaller.on('peer:announce', (data) => signaller.to(data.id).send('/hello', { from: signaller.id }));
 * signaller.on('message:hello', (payload, source) => console.log('hello from', source));
 * signaller.announce({ room: 'demo' });
 * ```
 */
export { createSignaller, defaultReconnectDelay } from './signaller.ts';
export { defaultAttributes, generateId } from './environment.ts';
export type * from './types.ts';
