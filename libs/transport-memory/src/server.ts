/** Server half of the memory transport: hands one end of each new pair to `accept`. */
import {
  CloseCode,
  type Accept,
  type ConnectionContext,
  type Connector,
  type Pipe,
} from '@switchyard/protocol';
import { createMemoryPair } from './pair.ts';

/** A memory "server": its `connector` opens pipes into `accept`. */
export interface MemoryServer {
  readonly connector: Connector;
  /** Closes every open connection (1001) and refuses new ones. */
  close(): Promise<void>;
}

/** Creates a memory server around an `accept` function (usually `hub.accept`). */
export function createMemoryServer(
  accept: Accept,
  context: Partial<ConnectionContext> = {},
): MemoryServer {
  const open = new Set<Pipe>();
  let closed = false;
  return {
    async connector({ signal } = {}) {
      signal?.throwIfAborted();
      if (closed) throw new Error('memory server is closed');
      const [client, server] = createMemoryPair();
      open.add(server);
      server.onClose(() => open.delete(server));
      accept(server, { ...context, transport: 'memory' });
      return client;
    },
    async close() {
      closed = true;
      for (const pipe of open) pipe.close(CloseCode.goingAway, 'server shutting down');
    },
  };
}
