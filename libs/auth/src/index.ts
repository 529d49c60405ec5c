/**
 * `@switchyard/auth`: JWT authentication for Switchyard hubs (docs/protocol.md §4.7), on jose.
 *
 * @example
 * ```ts
 * import { createHub } from '@switchyard/hub';
 * import { createJwtAuthority } from '@switchyard/auth';
 *
 * const tokens = createJwtAuthority({ secret: process.env.JWT_SECRET!, audience: 'switchyard' });
 * const hub = createHub({}, { tokens });
 * ```
 */
export * from './authority.ts';
export { AuthConfigError, type KeySource } from './keys.ts';
