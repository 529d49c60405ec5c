/**
 * `@switchyard/transport-socketio`: the Socket.IO transport. Import `./client` in browsers (it
 * never loads `socket.io`) and `./server` in Node. Each protocol message is the event
 * `rtc-signal` with one string argument, what `rtc-signaller-socket.io` sends.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHub } from '@switchyard/hub';
 * import { serveTransports } from '@switchyard/http';
 * import { socketIoServer } from '@switchyard/transport-socketio/server';
 * import { socketIoConnector } from '@switchyard/transport-socketio/client';
 *
 * const http = createServer().listen(3000, '127.0.0.1');
 * await serveTransports(http, createHub().accept, [socketIoServer()]);
 * const connector = socketIoConnector('http://127.0.0.1:3000');
 * ```
 */
export {
  socketIoConnector,
  type SocketIoConnectorOptions,
  type EngineTransport,
} from './client.ts';
export { socketIoServer, type SocketIoServerOptions, type SocketIoServerHalf } from './server.ts';
export { SIGNAL_EVENT, CLOSE_EVENT, PROBE_EVENT } from './events.ts';
