/**
 * The baseline: the least logic that can route the protocol's room broadcasts and directed
 * messages over `ws`. No validation, no stamping, no limits, no presence. Every benchmark runs it
 * beside Switchyard in the same invocation, so results are ratios on the same machine and load.
 *
 * Usage: node raw-relay.js [port]   (prints {"msg":"raw relay listening","port":N} once listening)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

interface Peer {
  readonly socket: WebSocket;
  id?: string;
  roomName?: string;
}

const rooms = new Map<string, Set<Peer>>();
const ids = new Map<string, Peer>();
const server = createServer();
const wss = new WebSocketServer({ server, perMessageDeflate: false, maxPayload: 1024 * 1024 });

wss.on('connection', (socket) => {
  const peer: Peer = { socket };
  socket.on('error', () => undefined);
  socket.on('message', (data, isBinary) => {
    if (isBinary) return;
    const message = data.toString();
    const first = message.indexOf('|');
    const command = first === -1 ? message : message.slice(0, first);
    if (command === '/announce') {
      const payload = message.slice(message.indexOf('|', first + 1) + 1);
      const attributes = JSON.parse(payload) as { id: string; room: string };
      leaveRoom(peer);
      peer.id = String(attributes.id);
      peer.roomName = attributes.room;
      let room = rooms.get(peer.roomName);
      if (!room) rooms.set(peer.roomName, (room = new Set()));
      room.add(peer);
      ids.set(peer.id, peer);
      socket.send(`/roominfo|{"memberCount":${room.size}}`);
      broadcast(peer, message);
      return;
    }
    if (peer.roomName === undefined) return;
    if (command === '/to') {
      const target = ids.get(message.slice(first + 1, message.indexOf('|', first + 1)));
      if (target && target.roomName === peer.roomName) target.socket.send(message);
      return;
    }
    broadcast(peer, message);
    if (command === '/leave') leaveRoom(peer);
  });
  socket.on('close', () => {
    leaveRoom(peer);
    if (peer.id !== undefined && ids.get(peer.id) === peer) ids.delete(peer.id);
  });
});

function broadcast(from: Peer, message: string): void {
  for (const member of rooms.get(from.roomName!) ?? [])
    if (member !== from) member.socket.send(message);
}

function leaveRoom(peer: Peer): void {
  if (peer.roomName === undefined) return;
  const room = rooms.get(peer.roomName);
  room?.delete(peer);
  if (room?.size === 0) rooms.delete(peer.roomName);
  peer.roomName = undefined;
}

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'raw relay listening', port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
