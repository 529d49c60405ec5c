/**
 * The SSE anchor: `signalhub` 4.9 (mafintosh's SSE signalling hub, `GET /v1/<app>/<channels>`
 * streams, `POST /v1/<app>/<channel>` publishes to a channel's subscribers), as its own `bin.js`
 * would run it, on a free port. The load generator's signalhub client maps the protocol onto
 * channels (`load.ts`).
 *
 * Usage: node signalhub-server.js [port]   (prints {"msg":"signalhub listening","port":N})
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';

const signalhub = createRequire(import.meta.url)('signalhub/server') as () => Server;
const server = signalhub();
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'signalhub listening', port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
