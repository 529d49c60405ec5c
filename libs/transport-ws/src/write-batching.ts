/**
 * Two write-path economies for the server half (docs/architecture.md, "hot path"):
 * - when one socket gets several frames in one event-loop turn, all but the first leave together
 *   in one syscall at the end of the turn, instead of one `writev` per frame;
 * - a broadcast hands the same string to every recipient, so it is UTF-8 encoded once and the
 *   same bytes are framed for each socket (the server never masks, so sharing is safe).
 */
import type { Duplex } from 'node:stream';

// Sockets written once this turn, and those holding further writes until the turn ends.
const written = new Set<Duplex>();
const corked = new Set<Duplex>();
let flushScheduled = false;

function flush(): void {
  flushScheduled = false;
  for (const socket of corked) socket.uncork();
  corked.clear();
  written.clear();
}

/**
 * Call before each write. The first frame a socket gets in a turn leaves at once (no added
 * latency when traffic is light); from the second one on, the socket is corked until the check
 * phase, so a busy turn costs one `writev` per socket instead of one per frame.
 */
export function coalesceWrites(socket: Duplex): void {
  if (corked.has(socket)) return;
  if (written.has(socket)) {
    corked.add(socket);
    socket.cork();
  } else {
    written.add(socket);
  }
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
