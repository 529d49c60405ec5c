/**
 * `@switchyard/transport-sse`: the SSE + POST transport, for networks that block WebSockets.
 * Import `./client` in browsers (native `EventSource`, `fetch`) and `./server` in Node.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHub } from '@switchyard/hub';
 * import { createSseServer } from '@switchyard/transport-sse/server';
 * import { sseConnector } from '@switchyard/transport-sse/client';
 *
 * const sse = createSseServer(createHub().accept);
 * createServer((req, res) => {
 *   if (!sse.handle(req, res)) res.writeHead(404).end();
 * }).listen(3000, '127.0.0.1');
 * const connector = sseConnector('http://127.0.0.1:3000');
 * ```
 */
export {
  sseConnector,
  streamUrl,
  type SseConnectorOptions,
  type EventSourceLike,
  type EventSourceConstructor,
  type FetchFunction,
} from './client.ts';
export { createSseServer, type SseServerOptions, type SseServerHandle } from './server.ts';
export type { OriginPolicy } from './cors.ts';
export { SseEvent, type SessionInfo, type CloseNotice } from './wire.ts';
