/** What the hub learns about an SSE connection: address, origin and the credential token. */
import type { IncomingMessage } from 'node:http';
import type { ConnectionContext } from '@switchyard/protocol';

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}

/** The context of a new stream; the token comes from the `token` query, else from the cookie. */
export function streamContext(
  request: IncomingMessage,
  query: URLSearchParams,
  cookieName: string,
): ConnectionContext {
  const token = query.get('token') ?? cookieValue(request.headers.cookie, cookieName);
  return {
    transport: 'sse',
    ...(request.socket.remoteAddress !== undefined && {
      remoteAddress: request.socket.remoteAddress,
    }),
    ...(request.headers.origin !== undefined && { origin: request.headers.origin }),
    ...(token !== undefined && { credentials: { token } }),
  };
}
