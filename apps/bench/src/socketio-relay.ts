/**
 * The cluster anchor: the least socket.io code that relays the protocol's room broadcasts and
 * directed messages, scaled out the way socket.io users do it, with `@socket.io/redis-adapter`.
 * Each connection joins its room and a room named after its id; `/to` is `io.to(id).emit`, a
 * broadcast `socket.to(room).emit`. No validation, stamping, limits or presence; `/roominfo`
 * carries no count (counting a room across nodes would cost socket.io a round trip).
 *
 * Usage: node socketio-relay.js <port> [redis-url]   (prints {"msg":…,"port":N} once listening)
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';

const EVENT = 'rtc-signal';
const [, , portArgument, redisUrl] = process.argv;
const http = createServer();
const io = new Server(http, { transports: ['websocket'], perMessageDeflate: false });
if (redisUrl) {
  const pub = new Redis(redisUrl);
  io.adapter(createAdapter(pub, pub.duplicate()));
}

io.on('connection', (socket) => {
  let room: string | undefined;
  socket.on(EVENT, (message: unknown) => {
    if (typeof message !== 'string') return;
    const first = message.indexOf('|');
    const command = first === -1 ? message : message.slice(0, first);
    if (command === '/announce') {
      const payload = message.slice(message.indexOf('|', first + 1) + 1);
      const attributes = JSON.parse(payload) as { id: string; room: string };
      if (room !== undefined) void socket.leave(room);
      room = attributes.room;
      void socket.join([room, `id:${attributes.id}`]);
      socket.emit(EVENT, '/roominfo|{}');
      socket.to(room).emit(EVENT, message);
      return;
    }
    if (room === undefined) return;
    if (command === '/to') {
      const target = message.slice(first + 1, message.indexOf('|', first + 1));
      io.to(`id:${target}`).emit(EVENT, message);
      return;
    }
    socket.to(room).emit(EVENT, message);
  });
});

http.listen(Number(portArgument ?? 0), '127.0.0.1', () => {
  const { port } = http.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'socket.io relay listening', port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
