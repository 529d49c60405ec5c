/**
 * The bookkeeping every `Pipe` needs (listeners, close-once, send-after-close), so that a
 * transport only writes the glue between its library's events and these calls.
 *
 * A class rather than a record of closures: a server holds one per connection, and prototype
 * methods cost nothing per instance (see docs/architecture.md, "memory per connection").
 */
import { PipeClosedError } from './errors.ts';
import type { CloseInfo, Pipe } from './pipe.ts';

/** What a transport implements for one connection. */
export interface PipeOps {
  send(message: string): void;
  /** Start closing the underlying connection; report the end through `PipeHandle.closed`. */
  close(code?: number, reason?: string): void;
  bufferedAmount?(): number;
  /** A liveness probe; without one, `pipe.isAlive()` resolves false (nothing can vouch for the peer). */
  isAlive?(timeoutMs: number): Promise<boolean>;
}

/** The transport's side of a pipe. */
export interface PipeHandle {
  readonly pipe: Pipe;
  /** Deliver one inbound message to the pipe's listeners (dropped once closing). */
  receive(message: string): void;
  /** Report input that is not one text message, e.g. `unreadable('binary frames')`. */
  unreadable(what: string): void;
  /** Report that the connection is gone; `local` defaults to whether `pipe.close()` was called. */
  closed(info?: Partial<CloseInfo>): void;
  readonly isOpen: boolean;
}

type State = 'open' | 'closing' | 'closed';
type MessageListener = (message: string) => void;
type UnreadableListener = (what: string) => void;
type CloseListener = (info: CloseInfo) => void;

/** Messages held for a pipe nobody listens to yet. */
const EARLY_LIMIT = 64;

class DefinedPipe implements Pipe, PipeHandle {
  private state: State = 'open';
  private closeInfo: CloseInfo | undefined = undefined;
  // arrays, not Sets: a pipe nearly always has exactly one listener of each kind
  private messageListeners: MessageListener[] = [];
  private closeListeners: CloseListener[] = [];
  // rarely used: created on first subscription, not per pipe
  private unreadableListeners: UnreadableListener[] | undefined = undefined;
  /**
   * Messages that arrived before anyone listened: a server's first frame (an `/error
   * unauthorized` right after the handshake) can arrive in the same tick as the open, before
   * the caller's `await` resumes. Held for the first listener, bounded.
   */
  private early: string[] | undefined = undefined;

  constructor(
    readonly transport: string,
    private readonly ops: PipeOps,
  ) {}

  get pipe(): Pipe {
    return this;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get bufferedAmount(): number {
    return this.ops.bufferedAmount?.() ?? 0;
  }

  send(message: string): void {
    if (this.state !== 'open') throw new PipeClosedError(`${this.transport} pipe is closed`);
    this.ops.send(message);
  }

  close(code?: number, reason?: string): void {
    if (this.state !== 'open') return;
    this.state = 'closing';
    this.ops.close(code, reason);
  }

  isAlive(timeoutMs: number): Promise<boolean> {
    if (this.state !== 'open') return Promise.resolve(false);
    return this.ops.isAlive ? this.ops.isAlive(timeoutMs) : Promise.resolve(false);
  }

  onMessage(listener: MessageListener): () => void {
    this.messageListeners.push(listener);
    const early = this.early;
    if (early) {
      this.early = undefined;
      for (const message of early) listener(message);
    }
    return () => {
      this.messageListeners = this.messageListeners.filter((l) => l !== listener);
    };
  }

  onUnreadable(listener: UnreadableListener): () => void {
    (this.unreadableListeners ??= []).push(listener);
    return () => {
      this.unreadableListeners = this.unreadableListeners?.filter((l) => l !== listener);
    };
  }

  onClose(listener: CloseListener): () => void {
    if (this.closeInfo) {
      listener(this.closeInfo);
      return () => undefined;
    }
    this.closeListeners.push(listener);
    return () => {
      this.closeListeners = this.closeListeners.filter((l) => l !== listener);
    };
  }

  receive(message: string): void {
    if (this.state !== 'open') return;
    const listeners = this.messageListeners;
    if (listeners.length === 0) {
      const early = (this.early ??= []);
      if (early.length < EARLY_LIMIT) early.push(message);
      return;
    }
    if (listeners.length === 1) listeners[0]!(message);
    else for (const listener of [...listeners]) listener(message);
  }

  unreadable(what: string): void {
    if (this.state !== 'open' || !this.unreadableListeners) return;
    for (const listener of [...this.unreadableListeners]) listener(what);
  }

  closed(info: Partial<CloseInfo> = {}): void {
    if (this.state === 'closed') return;
    const local = info.local ?? this.state === 'closing';
    this.state = 'closed';
    this.closeInfo = { ...info, local };
    // `early` is kept: what arrived before the close still reaches a listener that subscribes now
    this.messageListeners = [];
    this.unreadableListeners = undefined;
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const listener of listeners) listener(this.closeInfo);
  }
}

/** Builds a `Pipe` around a transport's operations; the handle feeds it events. */
export function definePipe(transport: string, ops: PipeOps): PipeHandle {
  return new DefinedPipe(transport, ops);
}
