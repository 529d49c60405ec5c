import { describeAuthentication } from '@switchyard/testing';
import { resolveToken, type Connector } from '@switchyard/protocol';
import { memoryServer } from './server.ts';

describeAuthentication({
  name: 'memory',
  async setup(accept) {
    const servers = [memoryServer(accept)];
    return {
      connector(token): Connector {
        if (token === undefined) return servers[0]!.connector;
        // a connect-time token is the memory server's context, so one server per connection
        return async (options) => {
          const server = memoryServer(accept, {
            credentials: { token: (await resolveToken(token))! },
          });
          servers.push(server);
          return server.connector(options);
        };
      },
      [Symbol.asyncDispose]: async () => void (await Promise.all(servers.map((s) => s.close()))),
    };
  },
});
