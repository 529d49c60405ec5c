/**
 * WebSocket close codes an endpoint may send (RFC 6455 §7.4 and IANA's registry): 1000–1003,
 * 1007–1014 and 3000–4999; not 1004–1006 and 1015, which only ever describe a close. A browser
 * accepts 1000 and 3000–4999 only: `closeSafely` falls back to 1000 where it refuses.
 */
export function isSendableCloseCode(code: number | undefined): code is number {
  if (code === undefined) return false;
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && (code < 1004 || code > 1006);
}

/** The minimal close surface of `ws` and browser sockets. */
interface Closable {
  close(code?: number, reason?: string): void;
}

/** Closes with the code when it may be sent, else with 1000; never throws. */
export function closeSafely(socket: Closable, code?: number, reason?: string): void {
  try {
    if (isSendableCloseCode(code)) socket.close(code, reason?.slice(0, 120));
    else socket.close(1000, reason?.slice(0, 120));
  } catch {
    try {
      socket.close(1000, reason?.slice(0, 120)); // a browser refused the code
    } catch {
      // the socket is already gone
    }
  }
}
