/**
 * The WebSocket baseline: the relay core (`relay-core.ts`) behind a bare `ws` server.
 *
 * Usage: node raw-relay.js [port] [redis-url]   (prints {"msg":"raw relay listening","port":N})
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { createRelayCore, type RelayPeer } from './relay-core.ts';

const [, , portArgument, redisUrl] = process.argv;
const relay = createRelayCore(redisUrl);
const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1024 * 1024 });

wss.on('connection', (socket) => {
  const peer: RelayPeer = { send: (message) => socket.send(message) };
  socket.on('error', () => undefined);
  socket.on('message', (data, isBinary) => {
    if (!isBinary) relay.receive(peer, data.toString());
  });
  socket.on('close', () => relay.closed(peer));
});

await relay.ready;
server.listen(Number(portArgument ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'raw relay listening', port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
