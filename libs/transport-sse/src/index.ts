/**
 * `@switchyard/transport-sse`: the SSE + POST transport, for networks that block WebSockets.
 * Import `./client` in browsers (native `EventSource`, `fetch`) and `./server` in Node.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHub } from '@switchyard/hub';
 * import { serveTransports } from '@switchyard/http';
 * import { sseServer } from '@switchyard/transport-sse/server';
 * import { sseConnector } from '@switchyard/transport-sse/client';
 *
 * const http = createServer().listen(3000, '127.0.0.1');
 * await serveTransports(http, createHub().accept, [sseServer()]);
 * const connector = sseConnector('http://127.0.0.1:3000');
 * ```
 */
export * from './client.ts';
export { sseServer, type SseServerOptions, type SseServerHalf } from './server.ts';
