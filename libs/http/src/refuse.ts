/** Answers on a raw socket: for upgrades that no half serves, or that a half refuses. */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * Writes a plain HTTP response and ends the socket; destroys it if the far end does not go
 * within `lingerMs`, so a refused upgrade can never hold a file descriptor.
 */
export function refuseUpgrade(socket: Duplex, status: number, text: string, lingerMs = 1000): void {
  socket.on('error', () => socket.destroy());
  if (socket.writable) {
    const body = `${text}\n`;
    socket.end(
      `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\n` +
        `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  }
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
