/** A real HTTP server on 127.0.0.1 with a hub and the SSE server half, for the specs. */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHub, type Hub, type HubOptions, type HubServices } from '@switchyard/hub';
import type { Accept } from '@switchyard/protocol';
import { createSseServer, type SseServerHandle, type SseServerOptions } from './server.ts';

/** A running server; dispose it in `afterEach`. */
export interface SseFixture extends AsyncDisposable {
  readonly server: Server;
  readonly hub: Hub;
  readonly sse: SseServerHandle;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every `GET /sse` request the server received, in order (streams opened and resumed). */
  readonly streams: IncomingMessage[];
}

/** Options of {@link startSse}. */
export interface FixtureOptions {
  readonly hub?: HubOptions;
  readonly services?: HubServices;
  readonly sse?: SseServerOptions;
  /** Wraps the hub's accept, e.g. to see the server-side pipes. */
  readonly accept?: (hub: Hub) => Accept;
}

/** Starts a hub and an HTTP server whose only route is the SSE server half. */
export async function startSse(options: FixtureOptions = {}): Promise<SseFixture> {
  const hub = createHub({ graceMs: 300, ...options.hub }, options.services);
  const sse = createSseServer(options.accept?.(hub) ?? hub.accept, options.sse);
  const streams: IncomingMessage[] = [];
  const server = createServer((request, response) => {
    if (request.method === 'GET' && request.url?.split('?')[0] === '/sse') streams.push(request);
    if (!sse.handle(request, response)) response.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    hub,
    sse,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    streams,
    async [Symbol.asyncDispose]() {
      hub.close();
      await sse.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
