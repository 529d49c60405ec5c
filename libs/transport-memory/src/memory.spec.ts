import { CloseCode } from '@switchyard/protocol';
import {
  describeConformance,
  describePipeContract,
  inbox,
  type TransportSetup,
} from '@switchyard/testing';
import { memoryServer } from './server.ts';

const setup: TransportSetup = async (accept) => {
  const server = memoryServer(accept);
  return {
    connector: server.connector,
    async raw() {
      const pipe = await server.connector({});
      const received = inbox<string>('a memory message');
      pipe.onMessage((message) => received.push(message));
      const closed = new Promise<number | undefined>((resolve) =>
        pipe.onClose((info) => resolve(info.code)),
      );
      return {
        inbox: received,
        answersProbes: true,
        say: (message) => pipe.send(message),
        // in process, vanishing is closing without a /leave
        kill: () => pipe.close(CloseCode.abnormal),
        closed: () => closed,
        [Symbol.asyncDispose]: async () => pipe.close(),
      };
    },
    [Symbol.asyncDispose]: () => server.close(),
  };
};

describeConformance('memory', setup);
describePipeContract({
  name: 'memory',
  setup,
  unsupported: {
    unreadable: 'in-process pipes carry strings only',
    liveness: 'isAlive reports whether the other end is open: an in-process peer cannot be silent',
    slowConsumer: 'delivery is one microtask per message: nothing buffers',
    openTimeout: 'opening is synchronous',
  },
});
