/**
 * `@switchyard/http` (Node): the host that server halves share. Every transport's server half
 * is an `HttpServerHalf`; `serveTransports` mounts a list of them on one `http.Server`, routes
 * each request and upgrade by path, answers and destroys what no half serves, and closes them
 * all with a deadline.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createHub } from '@switchyard/hub';
 * import { serveTransports } from '@switchyard/http';
 * import { webSocketServer } from '@switchyard/transport-ws/server';
 * import { sseServer } from '@switchyard/transport-sse/server';
 *
 * const hub = createHub();
 * const http = createServer();
 * const served = await serveTransports(http, hub.accept, [webSocketServer(), sseServer()], {
 *   fallback: (request, response) => response.writeHead(404).end(),
 * });
 * http.listen(3000, '127.0.0.1');
 * // later: await served.close(); http.close();
 * ```
 */
export { pathMatches, pathOf, type HttpServerHalf, type ServerHalfHost } from './server-half.ts';
export { serveTransports, checkHalves, type ServeOptions, type ServedTransports } from './serve.ts';
export { requestContext, queryToken } from './context.ts';
export { refuseUpgrade } from './refuse.ts';
export { settleWithin } from './deadline.ts';
export { replyText, cookieValue } from './reply.ts';
