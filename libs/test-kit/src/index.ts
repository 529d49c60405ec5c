/**
 * `@switchyard/test-kit` (private): fixtures every package's tests share, with no dependency on
 * the hub or the signaller so that their own tests can use them too.
 *
 * @example
 * ```ts
 * import { inbox, listenHttp, ManualClock, waitUntil } from '@switchyard/test-kit';
 *
 * await using http = await listenHttp((request, response) => response.end('ok'));
 * const got = inbox<string>('a response');
 * got.push(await (await fetch(http.url('/'))).text());
 * await got.next((text) => text === 'ok');
 * const clock = new ManualClock();
 * clock.setTimeout(() => console.log('fired'), 1000);
 * clock.advance(1000);
 * ```
 */
export { ManualClock, flushMicrotasks } from './clock.ts';
export { inbox, type Inbox } from './inbox.ts';
export { waitUntil, waitFor, quietFor, nextCall } from './wait.ts';
export { listenHttp, type HttpFixture } from './http.ts';
export { cleanupStack, type CleanupStack } from './cleanup.ts';
export { startMosquitto, freePort, type Mosquitto, type MosquittoOptions } from './mosquitto.ts';
export { startRedis, type RedisServer } from './redis.ts';
export { startRedisCluster, type RedisCluster } from './redis-cluster.ts';
export { mintToken, TEST_JWT_SECRET, type MintOptions } from './tokens.ts';
