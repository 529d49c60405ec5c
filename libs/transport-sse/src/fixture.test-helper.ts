/** A hub and the SSE server half served on 127.0.0.1, for the transport-specific specs. */
import type { IncomingMessage } from 'node:http';
import { createHub, type Hub, type HubOptions, type HubServices } from '@switchyard/hub';
import { pathOf } from '@switchyard/http';
import type { Pipe } from '@switchyard/protocol';
import { inbox, serveHalves, type Inbox, type ServedFixture } from '@switchyard/testing';
import { sseServer, type SseServerHalf, type SseServerOptions } from './server.ts';

/** A running server; `await using` disposes it. */
export interface SseFixture extends AsyncDisposable {
  readonly hub: Hub;
  readonly sse: SseServerHalf;
  readonly served: ServedFixture;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Every server-side pipe the half handed to the hub, in order. */
  readonly pipes: Inbox<Pipe>;
  /** Every `GET /sse` request the server received, in order (streams opened and resumed). */
  readonly streams: IncomingMessage[];
}

/** Options of {@link startSse}. */
export interface FixtureOptions {
  readonly hub?: HubOptions;
  readonly services?: HubServices;
  readonly sse?: SseServerOptions;
}

/** Starts a hub and `sseServer(options.sse)` on a fresh HTTP server. */
export async function startSse(options: FixtureOptions = {}): Promise<SseFixture> {
  const hub = createHub({ graceMs: 300, ...options.hub }, options.services);
  const sse = sseServer(options.sse);
  const pipes = inbox<Pipe>('a server-side pipe');
  const served = await serveHalves(
    (pipe, context) => {
      pipes.push(pipe);
      hub.accept(pipe, context);
    },
    [sse],
  );
  const streams: IncomingMessage[] = [];
  // a second listener beside the host's: it only watches
  served.http.server.on('request', (request: IncomingMessage) => {
    if (request.method === 'GET' && pathOf(request.url) === (options.sse?.path ?? '/sse'))
      streams.push(request);
  });
  return {
    hub,
    sse,
    served,
    url: served.url(),
    pipes,
    streams,
    async [Symbol.asyncDispose]() {
      hub.close();
      await served.close();
    },
  };
}
