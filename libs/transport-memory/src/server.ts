/** Server half of the memory transport: hands one end of each new pair to `accept`. */
import {
  CloseCode,
  type Accept,
  type ConnectionContext,
  type Connector,
  type Pipe,
  type ServerHalf,
} from '@switchyard/protocol';
import { createMemoryPair } from './pair.ts';

/** A memory server half: its `connector` opens pipes into `accept`. */
export interface MemoryServer extends ServerHalf {
  readonly transport: 'memory';
  readonly connector: Connector;
}

/** Creates a memory server around an `accept` function (usually `hub.accept`). */
export function memoryServer(
  accept: Accept,
  context: Partial<ConnectionContext> = {},
): MemoryServer {
  const open = new Set<Pipe>();
  let closed = false;
  return {
    transport: 'memory',
    async connector({ signal } = {}) {
      signal?.throwIfAborted();
      if (closed) throw new Error('memory server is closed');
      const [client, server] = createMemoryPair();
      open.add(server);
      server.onClose(() => open.delete(server));
      accept(server, { ...context, transport: 'memory' });
      return client;
    },
    get connections() {
      return open.size;
    },
    async close(code = CloseCode.goingAway) {
      closed = true;
      for (const pipe of [...open]) pipe.close(code, 'server shutting down');
    },
  };
}
