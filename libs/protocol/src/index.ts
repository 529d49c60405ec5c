/**
 * `@switchyard/protocol`: the rtc-signaller wire protocol, pure (no I/O, no timers), for
 * clients, servers and browsers alike.
 *
 * @example
 * ```ts
 * import { encodeMessage, parseHeader, readSender } from '@switchyard/protocol';
 *
 * const message = encodeMessage(['/chat', 'alice', { text: 'a|b' }]);
 * // '/chat|alice|{"text":"a\\u007cb"}'
 * const header = parseHeader(message);
 * readSender(header.sender!).id; // 'alice'
 * ```
 */
export * from './codec.ts';
export * from './header.ts';
export * from './sender.ts';
export * from './limits.ts';
export * from './errors.ts';
export * from './builders.ts';
export * from './pipe.ts';
export * from './define-pipe.ts';
export * from './emitter.ts';
export * from './origin.ts';
export * from './clock.ts';
export * from './log.ts';
export * from './connect.ts';
export * from './probe.ts';
export * from './auth.ts';
