/** Client half of the memory transport. */
import type { Connector } from '@switchyard/protocol';
import type { MemoryServer } from './server.ts';

/** The connector of a memory server, for symmetry with the other transports. */
export function memoryConnector(server: MemoryServer): Connector {
  return server.connector;
}
