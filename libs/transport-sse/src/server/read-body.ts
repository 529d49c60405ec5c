/** Reads a POST body with a byte cap, without buffering more than the cap. */
import type { IncomingMessage } from 'node:http';

/** The body, or why it was refused. */
export type BodyResult =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'too-large'; readonly drained: boolean }
  | { readonly kind: 'not-utf8' }
  | { readonly kind: 'aborted' };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Reads at most `maxBytes`. An oversized body is drained (so the client sees the 413 instead of a
 * reset connection) unless it announces more than `drainLimit` bytes, which is refused unread.
 */
export function readBody(
  request: IncomingMessage,
  maxBytes: number,
  drainLimit: number,
): Promise<BodyResult> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > drainLimit) return Promise.resolve({ kind: 'too-large', drained: false });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) chunks.push(chunk);
      else if (size > drainLimit) {
        request.removeAllListeners('data');
        request.pause();
        resolve({ kind: 'too-large', drained: false });
      }
    });
    request.once('end', () => {
      if (size > maxBytes) return resolve({ kind: 'too-large', drained: true });
      try {
        resolve({ kind: 'text', text: utf8.decode(Buffer.concat(chunks, size)) });
      } catch {
        resolve({ kind: 'not-utf8' });
      }
    });
    // the first settlement wins: after 'end', 'close' changes nothing
    request.once('error', () => resolve({ kind: 'aborted' }));
    request.once('close', () => {
      if (!request.complete) resolve({ kind: 'aborted' });
    });
  });
}
