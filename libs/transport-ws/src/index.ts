/**
 * `@switchyard/transport-ws`: the WebSocket transport. Import `./client` in browsers (it never
 * loads `ws` when a native WebSocket exists) and `./server` in Node.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHub } from '@switchyard/hub';
 * import { serveTransports } from '@switchyard/http';
 * import { webSocketServer } from '@switchyard/transport-ws/server';
 * import { webSocketConnector } from '@switchyard/transport-ws/client';
 *
 * const http = createServer().listen(3000, '127.0.0.1');
 * await serveTransports(http, createHub().accept, [webSocketServer()]);
 * const connector = webSocketConnector('http://127.0.0.1:3000');
 * ```
 */
export {
  webSocketConnector,
  toWebSocketUrl,
  endpointUrls,
  type WebSocketConnectorOptions,
  type WebSocketLike,
  type WebSocketConstructor,
} from './client.ts';
export {
  webSocketServer,
  type WebSocketServerOptions,
  type WebSocketServerHalf,
} from './server.ts';
