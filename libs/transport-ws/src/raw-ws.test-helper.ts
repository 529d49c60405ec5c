/** A raw `ws` client as a pipe-contract `RawPeer`: binary frames, no pongs, paused reads, kill. */
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import type { RawPeer } from '@switchyard/testing';
import { inbox } from '@switchyard/testing';

/** Opens a raw WebSocket to `url` (`http://…`); it never answers pings. */
export async function rawWebSocket(url: string): Promise<RawPeer & { readonly ws: WebSocket }> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), { autoPong: false });
  const received = inbox<string>('a WebSocket message');
  ws.on('message', (data, isBinary) => {
    if (!isBinary) received.push(data.toString());
  });
  const closed = new Promise<number | undefined>((resolve) =>
    ws.once('close', (code) => resolve(code)),
  );
  ws.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    inbox: received,
    answersProbes: false,
    say: (message) => ws.send(message),
    sayUnreadable: () => ws.send(Buffer.from([1, 2, 3])),
    kill: () => ws.terminate(),
    stopReading: () => (ws as unknown as { _socket: Socket })._socket.pause(),
    closed: () => closed,
    async [Symbol.asyncDispose]() {
      ws.terminate();
    },
  };
}
