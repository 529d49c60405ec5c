import { describeConformance } from '@switchyard/testing';
import { createMemoryServer } from './server.ts';

describeConformance('memory', async (hub) => {
  const server = createMemoryServer(hub.accept);
  return { connector: server.connector, dispose: () => server.close() };
});
