/** What the hub learns about a connection from its HTTP request. */
import type { IncomingMessage } from 'node:http';
import type { ConnectionContext } from '@switchyard/protocol';

/**
 * The context of a connection opened by `request`: address, `Origin`, and the credential token
 * the transport found (query, auth payload, cookie). Read at once: a closure over the request
 * would keep it alive for the connection's lifetime.
 */
export function requestContext(
  transport: string,
  request: IncomingMessage,
  token?: string | null,
): ConnectionContext {
  const remoteAddress = request.socket.remoteAddress;
  const origin = request.headers.origin;
  return {
    transport,
    ...(remoteAddress !== undefined && { remoteAddress }),
    ...(origin !== undefined && { origin }),
    ...(token !== undefined && token !== null && { credentials: { token } }),
  };
}

/** The `token` query parameter of a request URL, if any. */
export function queryToken(request: IncomingMessage): string | null {
  const url = request.url ?? '/';
  if (!url.includes('token=')) return null;
  return new URL(url, 'http://localhost').searchParams.get('token');
}
