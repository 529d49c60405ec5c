/** The bounded queue of frames written while offline, flushed in order on the next connection. */
import { OfflineQueueFullError } from './errors.ts';

/** Frames waiting for a connection. */
export interface OfflineQueue {
  readonly length: number;
  /** Queues `frame`; past the limit the oldest frame is dropped and reported to `onDrop`. */
  push(frame: string): void;
  /**
   * Hands the frames to `send`, oldest first. Stops at the first `send` that throws (the pipe
   * closed again) and keeps that frame and the rest for the next connection.
   */
  flush(send: (frame: string) => void): void;
  clear(): void;
}

/** Creates an empty queue holding at most `limit` frames. */
export function createOfflineQueue(
  limit: number,
  onDrop: (error: OfflineQueueFullError) => void,
): OfflineQueue {
  const frames: string[] = [];
  return {
    get length() {
      return frames.length;
    },
    push(frame) {
      if (frames.length >= limit) {
        const dropped = frames.shift();
        // a limit of 0 queues nothing: then the frame itself is what gets dropped
        onDrop(new OfflineQueueFullError(limit, dropped ?? frame));
        if (dropped === undefined) return;
      }
      frames.push(frame);
    },
    flush(send) {
      while (frames.length > 0) {
        try {
          send(frames[0]!);
        } catch {
          return;
        }
        frames.shift();
      }
    },
    clear() {
      frames.length = 0;
    },
  };
}
