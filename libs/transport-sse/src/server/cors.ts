/**
 * CORS for the SSE endpoints. Browsers enforce it; requests without `Origin` (non-browsers) pass.
 * Credentials (cookies) are only allowed for an explicit allow-list: reflecting every origin
 * *with* credentials would let any site open a session as the visitor.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { originAllowed, type OriginPolicy } from '@switchyard/protocol';

/** The CORS headers for `request`, or undefined when its origin is not allowed. */
export function corsHeaders(
  request: IncomingMessage,
  policy: OriginPolicy,
): Record<string, string> | undefined {
  const origin = request.headers.origin;
  if (origin === undefined) return {};
  if (policy === undefined) return { 'access-control-allow-origin': origin, vary: 'Origin' };
  if (!originAllowed(origin, policy)) return undefined;
  return {
    'access-control-allow-origin': origin,
    'access-control-allow-credentials': 'true',
    vary: 'Origin',
  };
}

/** Answers a preflight: which methods and headers the endpoint takes, cached for 10 minutes. */
export function answerPreflight(
  response: ServerResponse,
  cors: Record<string, string>,
  methods: string,
): void {
  response.writeHead(204, {
    ...cors,
    'access-control-allow-methods': methods,
    'access-control-allow-headers': 'content-type, last-event-id',
    'access-control-max-age': '600',
  });
  response.end();
}
