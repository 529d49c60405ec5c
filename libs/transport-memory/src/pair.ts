/** An in-process pair of connected pipes. */
import { definePipe, type Pipe, type PipeHandle } from '@switchyard/protocol';

/** Options for {@link createMemoryPair}. */
export interface MemoryPairOptions {
  /** The `transport` name both pipes report. @default 'memory' */
  readonly transport?: string;
}

/**
 * Two pipes wired to each other. Delivery is asynchronous (one microtask per message, in
 * order), like a network, so no caller is re-entered from its own `send`. Closing one end
 * closes the other with the same code.
 */
export function createMemoryPair(options: MemoryPairOptions = {}): [Pipe, Pipe] {
  const transport = options.transport ?? 'memory';
  const ends: PipeHandle[] = [];
  const make = (self: 0 | 1): PipeHandle => {
    const other = () => ends[1 - self]!;
    return definePipe(transport, {
      send(message) {
        queueMicrotask(() => other().receive(message));
      },
      close(code, reason) {
        queueMicrotask(() => {
          ends[self]!.closed({
            local: true,
            ...(code !== undefined && { code }),
            ...(reason !== undefined && { reason }),
          });
          other().closed({
            local: false,
            ...(code !== undefined && { code }),
            ...(reason !== undefined && { reason }),
          });
        });
      },
      isAlive: async () => other().isOpen,
    });
  };
  ends.push(make(0), make(1));
  return [ends[0]!.pipe, ends[1]!.pipe];
}
