/** WebSocket close codes an application may send: 1000 and 3000–4999 (RFC 6455 §7.4). */
export function isSendableCloseCode(code: number | undefined): code is number {
  return (
    code !== undefined &&
    (code === 1000 ||
      code === 1001 ||
      (code >= 3000 && code <= 4999) ||
      code === 1008 ||
      code === 1011)
  );
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
      socket.close(1000); // a browser refused the code
    } catch {
      // the socket is already gone
    }
  }
}
