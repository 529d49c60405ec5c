/** Server halves on a fresh HTTP server at 127.0.0.1, as one disposable fixture. */
import { createServer as createTcpServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import {
  serveTransports,
  type HttpServerHalf,
  type ServedTransports,
  type ServeOptions,
} from '@switchyard/http';
import type { Accept } from '@switchyard/protocol';
import { listenHttp, type HttpFixture } from '@switchyard/test-kit';

/** Halves served on a listening HTTP server; disposing closes the halves, then the server. */
export interface ServedFixture extends AsyncDisposable {
  readonly http: HttpFixture;
  readonly served: ServedTransports;
  /** `http://127.0.0.1:<port>` plus `path`. */
  url(path?: string): string;
  close(): Promise<void>;
}

/** Serves `halves` into `accept` (in practice `hub.accept`). */
export async function serveHalves(
  accept: Accept,
  halves: readonly HttpServerHalf[],
  options: ServeOptions = {},
): Promise<ServedFixture> {
  const http = await listenHttp();
  const served = await serveTransports(http.server, accept, halves, options);
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await served.close();
      await http.close();
    })());
  return { http, served, url: http.url, close, [Symbol.asyncDispose]: close };
}

/** A TCP server that accepts connections and never answers: for open timeouts and aborts. */
export interface MuteServer extends AsyncDisposable {
  readonly url: string;
}

/** Starts a mute server on 127.0.0.1 and a free port. */
export async function muteServer(): Promise<MuteServer> {
  const held = new Set<Socket>();
  const server = createTcpServer((socket) => {
    held.add(socket);
    socket.on('error', () => socket.destroy());
    socket.once('close', () => held.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    async [Symbol.asyncDispose]() {
      for (const socket of held) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
