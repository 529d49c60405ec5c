/**
 * The bookkeeping every `Pipe` needs (listener sets, close-once, send-after-close), so that a
 * transport only writes the glue between its library's events and these four calls.
 */
import { PipeClosedError } from './errors.ts';
import type { CloseInfo, Pipe } from './pipe.ts';

/** What a transport implements for one connection. */
export interface PipeOps {
  send(message: string): void;
  /** Start closing the underlying connection; report the end through `PipeHandle.closed`. */
  close(code?: number, reason?: string): void;
  bufferedAmount?(): number;
  isAlive?(timeoutMs: number): Promise<boolean>;
}

/** The transport's side of a pipe. */
export interface PipeHandle {
  readonly pipe: Pipe;
  /** Deliver one inbound message to the pipe's listeners (dropped once closing). */
  receive(message: string): void;
  /** Report that the connection is gone; `local` defaults to whether `pipe.close()` was called. */
  closed(info?: Partial<CloseInfo>): void;
  readonly isOpen: boolean;
}

type State = 'open' | 'closing' | 'closed';

/** Builds a `Pipe` around a transport's operations. */
export function definePipe(transport: string, ops: PipeOps): PipeHandle {
  let state: State = 'open';
  let closeInfo: CloseInfo | undefined;
  const messageListeners = new Set<(message: string) => void>();
  const closeListeners = new Set<(info: CloseInfo) => void>();

  const pipe: Pipe = {
    transport,
    send(message) {
      if (state !== 'open') throw new PipeClosedError(`${transport} pipe is closed`);
      ops.send(message);
    },
    close(code, reason) {
      if (state !== 'open') return;
      state = 'closing';
      ops.close(code, reason);
    },
    onMessage(listener) {
      messageListeners.add(listener);
      return () => messageListeners.delete(listener);
    },
    onClose(listener) {
      if (closeInfo) {
        listener(closeInfo);
        return () => undefined;
      }
      closeListeners.add(listener);
      return () => closeListeners.delete(listener);
    },
    get bufferedAmount() {
      return ops.bufferedAmount?.() ?? 0;
    },
    ...(ops.isAlive && { isAlive: (timeoutMs: number) => ops.isAlive!(timeoutMs) }),
  };

  return {
    pipe,
    get isOpen() {
      return state === 'open';
    },
    receive(message) {
      if (state !== 'open') return;
      for (const listener of messageListeners) listener(message);
    },
    closed(info = {}) {
      if (state === 'closed') return;
      const local = info.local ?? state === 'closing';
      state = 'closed';
      closeInfo = { ...info, local };
      messageListeners.clear();
      const listeners = [...closeListeners];
      closeListeners.clear();
      for (const listener of listeners) listener(closeInfo);
    },
  };
}
