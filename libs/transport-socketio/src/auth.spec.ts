import { describeAuthentication, serveHalves } from '@switchyard/testing';
import { socketIoConnector } from './client.ts';
import { socketIoServer } from './server.ts';

describeAuthentication({
  name: 'socket.io',
  async setup(accept) {
    const served = await serveHalves(accept, [socketIoServer()]);
    return {
      connector: (token) => socketIoConnector(served.url(), token ? { token } : {}),
      [Symbol.asyncDispose]: () => served.close(),
    };
  },
});
