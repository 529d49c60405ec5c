/** HTTP servers for tests: on a free port of 127.0.0.1, closed (connections included) on dispose. */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A listening server; `await using` closes it and every connection it holds. */
export interface HttpFixture extends AsyncDisposable {
  readonly server: Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>` plus `path`. */
  url(path?: string): string;
  close(): Promise<void>;
}

/** Starts an HTTP server on 127.0.0.1 and a free port. */
export async function listenHttp(handler?: RequestListener): Promise<HttpFixture> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }));
  return {
    server,
    port,
    url: (path = '') => `http://127.0.0.1:${port}${path}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}
