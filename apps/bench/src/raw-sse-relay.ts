/**
 * The SSE + POST baseline: the relay core (`relay-core.ts`) behind the least HTTP that carries
 * it. `GET /sse` opens a stream whose first event names the session; `POST /sse/<session>` hands
 * one frame to the relay (answered 204); each frame out is one `data:` event; `DELETE` ends the
 * session. No event ids, replay, acknowledgements, heartbeats, resume, limits or origin checks:
 * what Switchyard's SSE half (docs/transports/sse.md) does on top of the same requests.
 *
 * Usage: node raw-sse-relay.js [port]   (prints {"msg":"raw sse relay listening","port":N})
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRelayCore, type RelayPeer } from './relay-core.ts';

const relay = createRelayCore();
const sessions = new Map<string, { peer: RelayPeer; end: () => void }>();

const server = createServer((request, response) => {
  const url = request.url ?? '/';
  if (request.method === 'GET' && (url === '/sse' || url.startsWith('/sse?'))) {
    const session = randomBytes(18).toString('base64url');
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const peer: RelayPeer = {
      send: (message) => void (response.writableEnded || response.write(`data: ${message}\n\n`)),
    };
    const end = () => {
      if (sessions.get(session)?.peer !== peer) return;
      sessions.delete(session);
      relay.closed(peer);
      response.end();
    };
    sessions.set(session, { peer, end });
    response.write(`event: session\ndata: {"session":"${session}"}\n\n`);
    response.on('close', end);
    return;
  }
  const session = url.startsWith('/sse/') ? url.slice(5).split('?')[0]! : undefined;
  const entry = session === undefined ? undefined : sessions.get(session);
  if (request.method === 'POST' && entry) {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      if (body !== '') relay.receive(entry.peer, body);
      response.writeHead(204).end();
    });
    return;
  }
  if (request.method === 'DELETE' && entry) {
    entry.end();
    return void response.writeHead(204).end();
  }
  request.resume();
  response.writeHead(404).end();
});

server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'raw sse relay listening', port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
