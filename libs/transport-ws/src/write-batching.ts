/**
 * Two write-path economies for the server half (docs/architecture.md, "hot path"):
 * - frames written to one socket during one event-loop turn leave in one syscall (cork until the
 *   check phase), instead of one `writev` per frame;
 * - a broadcast hands the same string to every recipient, so it is UTF-8 encoded once and the
 *   same bytes are framed for each socket (the server never masks, so sharing is safe).
 */
import type { Duplex } from 'node:stream';

const corked = new Set<Duplex>();
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
}

/** Holds `socket`'s writes until the end of this event-loop turn. */
export function corkUntilNextTurn(socket: Duplex): void {
  if (corked.has(socket)) return;
  corked.add(socket);
  socket.cork();
  if (!flushScheduled) {
    flushScheduled = true;
    setImmediate(flush);
  }
}

let lastText: string | undefined;
let lastBytes: Buffer = Buffer.alloc(0);

/** UTF-8 bytes of `text`, reused while the same string is sent to recipient after recipient. */
export function utf8Once(text: string): Buffer {
  if (text !== lastText) {
    lastText = text;
    lastBytes = Buffer.from(text, 'utf8');
  }
  return lastBytes;
}
