/**
 * One SSE session: the `Pipe` the hub sees. Streams come and go under it (a dropped stream is
 * resumed with `Last-Event-ID`); the session only ends when the client deletes it, the server
 * closes it, or its stream stays gone longer than the resume window.
 *
 * Every message stays in the replay buffer until the client acknowledges it (`?ack=` on a POST,
 * or `Last-Event-ID` on a resume), so a resume replays exactly what the client missed. The buffer
 * is bounded; overflowing it closes the session (4008) instead of losing messages silently.
 */
import type { ServerResponse } from 'node:http';
import { CloseCode, probeWithin, type PipeHandle, type PipeOps } from '@switchyard/protocol';
import { closeEvent, HEARTBEAT, messageEvent, pingEvent } from '../shared/wire.ts';

/** Heartbeats a session with acknowledged heartbeats may leave unanswered before it is dropped. */
const MISSED_PINGS = 2;

/** What every session of one server shares: limits and the session table. */
export interface SessionHost {
  readonly sessions: Map<string, SseSession>;
  readonly resumeWindowMs: number;
  readonly replayLimit: number;
  readonly replayMaxBytes: number;
}

type SessionState = 'attached' | 'detached' | 'closed';

const SESSION = Symbol('switchyard.sse.session');
type TaggedResponse = ServerResponse & { [SESSION]?: SseSession };

/** Shared listener (`this` is the response): no closure per stream. */
function onStreamClose(this: TaggedResponse): void {
  this[SESSION]?.detach(this);
}

function expire(session: SseSession): void {
  session.expire();
}

/** A session's pipe operations and stream bookkeeping, as prototype methods. */
export class SseSession implements PipeOps {
  state: SessionState = 'detached';
  handle!: PipeHandle;
  /** Highest event sequence number written; the session event is 0. */
  private seq = 0;
  /** Highest client sequence number delivered (`?seq=` on POSTs), for retry deduplication. */
  private clientSeq = 0;
  // unacknowledged events, oldest first (seq of replay[i] is acked + 1 + i)
  private replay: string[] = [];
  private replayBytes: number[] = [];
  private unacked = 0;
  private acked = 0;
  private response: TaggedResponse | undefined = undefined;
  private timer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** The close event kept for a client that comes back after the session closed. */
  private finalEvent: string | undefined = undefined;
  /** Sequence of the latest `ping`, and heartbeats in a row that found it unacknowledged. */
  private pingSeq = 0;
  private missedPings = 0;
  /** Liveness probes waiting for an acknowledgement of their ping. */
  private probes: { readonly seq: number; readonly settle: (alive: boolean) => void }[] = [];

  /** `acksHeartbeats`: the client opened with `?heartbeat=ack` and acknowledges `ping` events. */
  constructor(
    readonly id: string,
    private readonly host: SessionHost,
    readonly acksHeartbeats = false,
  ) {}

  // ---- PipeOps ---------------------------------------------------------------------------------

  send(message: string): void {
    if (this.state === 'closed') return;
    this.enqueue(messageEvent(this.id, this.seq + 1, message));
  }

  /** Buffers one sequenced event until it is acknowledged, and writes it if a stream is there. */
  private enqueue(frame: string): void {
    const bytes = Buffer.byteLength(frame);
    if (
      this.replay.length >= this.host.replayLimit ||
      this.unacked + bytes > this.host.replayMaxBytes
    ) {
      this.handle.pipe.close(
        CloseCode.policyViolation,
        `replay buffer full: ${this.replay.length} messages (${this.unacked} bytes) unacknowledged`,
      );
      return;
    }
    this.seq += 1;
    this.replay.push(frame);
    this.replayBytes.push(bytes);
    this.unacked += bytes;
    this.response?.write(frame);
  }

  close(code: number = CloseCode.normal, reason = ''): void {
    this.end({ code, reason }, true);
  }

  /**
   * Bytes not yet acknowledged, or queued on the stream, whichever is more: `?ack=` is the
   * client's word, the stream's write queue is what it has really not read.
   */
  bufferedAmount(): number {
    return Math.max(this.unacked, this.response?.writableLength ?? 0);
  }

  /**
   * With acknowledged heartbeats: a `ping` now, alive once the client acknowledges it. Without:
   * alive while a stream is attached (SSE itself has no ping).
   */
  isAlive(timeoutMs: number): Promise<boolean> {
    if (this.state !== 'attached') return Promise.resolve(false);
    if (!this.acksHeartbeats) return Promise.resolve(true);
    const seq = this.ping();
    return probeWithin(timeoutMs, (settle) => {
      const probe = { seq, settle };
      this.probes.push(probe);
      return () => (this.probes = this.probes.filter((p) => p !== probe));
    });
  }

  /** Sends a `ping` event; returns its sequence number. */
  private ping(): number {
    this.enqueue(pingEvent(this.id, this.seq + 1));
    this.pingSeq = this.seq;
    return this.seq;
  }

  // ---- streams ---------------------------------------------------------------------------------

  /**
   * Makes `response` (already 200 with SSE headers) the session's stream, replacing any previous
   * one, and replays what the client has not seen after `lastSeq`.
   */
  attach(response: ServerResponse, lastSeq: number): void {
    this.ack(lastSeq);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.state === 'closed') {
      // closed while the stream was away: deliver the rest, then the reason
      for (const frame of this.replay) response.write(frame);
      response.end(this.finalEvent);
      this.host.sessions.delete(this.id);
      return;
    }
    const previous = this.response;
    if (previous) {
      // the client came back before the server noticed the old stream drop (a half-open socket)
      previous[SESSION] = undefined;
      previous.destroy();
    }
    const tagged = response as TaggedResponse;
    tagged[SESSION] = this;
    tagged.on('close', onStreamClose);
    this.response = tagged;
    this.state = 'attached';
    for (const frame of this.replay) tagged.write(frame);
  }

  /** The stream went away: wait for a resume until the window ends. */
  detach(response: TaggedResponse): void {
    if (this.response !== response) return;
    response[SESSION] = undefined;
    this.response = undefined;
    if (this.state !== 'attached') return;
    this.state = 'detached';
    this.timer = setTimeout(expire, this.host.resumeWindowMs, this);
    this.timer.unref();
  }

  /** The resume window ended: the hub treats this as a hard disconnect. */
  expire(): void {
    this.timer = undefined;
    if (this.state === 'closed') {
      this.host.sessions.delete(this.id);
      return;
    }
    this.end({ code: CloseCode.abnormal, reason: 'stream lost and not resumed' }, false);
  }

  /** Drops acknowledged events: the client has everything up to `seq`. */
  ack(seq: number): void {
    const upTo = Math.min(seq, this.seq);
    const count = upTo - this.acked;
    if (count <= 0) return;
    this.replay.splice(0, count);
    for (const bytes of this.replayBytes.splice(0, count)) this.unacked -= bytes;
    this.acked = upTo;
    if (upTo >= this.pingSeq) this.missedPings = 0;
    for (const probe of this.probes.filter((p) => p.seq <= upTo)) probe.settle(true);
  }

  /** Whether a POST with client sequence `seq` is new (false for a retried duplicate). */
  admit(seq: number | undefined): boolean {
    if (seq === undefined) return true;
    if (seq <= this.clientSeq) return false;
    this.clientSeq = seq;
    return true;
  }

  /**
   * Every `heartbeatMs`: a comment, or, with acknowledged heartbeats, a `ping`. A session whose
   * pings go unacknowledged twice in a row is a silent peer (a machine gone without a FIN): it
   * ends as a hard disconnect, and the hub's grace window starts.
   */
  heartbeat(): void {
    if (!this.acksHeartbeats || this.state !== 'attached') {
      this.response?.write(HEARTBEAT);
      return;
    }
    if (this.pingSeq > this.acked && ++this.missedPings >= MISSED_PINGS) {
      this.end({ code: CloseCode.abnormal, reason: 'heartbeats not acknowledged' }, false);
      return;
    }
    this.ping();
  }

  /**
   * Ends the session. With `notify` the client learns why through a `close` event, now if its
   * stream is attached, else when it comes back inside the resume window.
   */
  end(notice: { code: number; reason: string }, notify: boolean): void {
    if (this.state === 'closed') return;
    const wasDetached = this.state === 'detached';
    this.state = 'closed';
    const response = this.response;
    this.response = undefined;
    if (response) {
      response[SESSION] = undefined;
      response.end(notify ? closeEvent(notice) : undefined);
    }
    if (notify && wasDetached && this.timer !== undefined) {
      this.finalEvent = closeEvent(notice);
    } else {
      if (this.timer !== undefined) clearTimeout(this.timer);
      this.timer = undefined;
      this.host.sessions.delete(this.id);
      this.replay = [];
      this.replayBytes = [];
      this.unacked = 0;
    }
    this.handle.closed(notice);
  }

  /** Forgets a closed session at once (server shutdown). */
  discard(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.response?.destroy();
    this.host.sessions.delete(this.id);
  }
}
