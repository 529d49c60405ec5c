/**
 * The client's upstream: one POST per message, one at a time, so the server receives them in
 * order (parallel requests may overtake each other on different connections). Each POST carries
 * `ack=<last event seq seen>` so the server can drop what it no longer needs to replay, and
 * `seq=<n>` so a POST retried after a network error is delivered once.
 */
import { utf8ByteLength } from '@switchyard/protocol';

/** The `fetch` the client half uses (the global one by default). */
export type FetchFunction = typeof globalThis.fetch;

/** Settings of one outbox. */
export interface OutboxSettings {
  readonly fetch: FetchFunction;
  readonly credentials: RequestCredentials;
  /** Give up retrying a POST after this long without an answer. */
  readonly retryForMs: number;
  /** Acknowledge on its own after this many unacknowledged events. */
  readonly ackEvery: number;
  /** The session is unusable (404, refused, or unreachable for `retryForMs`). */
  readonly onFatal: (reason: string) => void;
}

/** Statuses after which the session is fine: the server already answered in-band with `/error`. */
const REFUSED_IN_BAND = new Set([400, 413, 415]);
/** Statuses of a server or load balancer that could not pass the POST on now: sent again. */
const TRY_AGAIN = new Set([502, 503, 504]);
const REQUEST_TIMEOUT_MS = 10_000;
/**
 * The POSTs of an ending session go out with `keepalive` (up to this size), so the `/leave` a
 * closing tab sends on `pagehide` still arrives after the page is gone. Only those: Chromium
 * sends keepalive requests more slowly, and caps their bodies in flight at 64 KiB.
 */
const KEEPALIVE_MAX_BYTES = 8192;

export class Outbox {
  private readonly queue: string[] = [];
  private queuedBytes = 0;
  private sending = false;
  private pumpQueued = false;
  private stopped = false;
  private ending = false;
  private onEnded: (() => void) | undefined = undefined;
  /** Client sequence number of the last message handed to the server. */
  private clientSeq = 0;
  /** Highest event seq received, and the highest one the server has been told about. */
  private lastSeen = 0;
  private lastAcked = 0;
  /** A heartbeat asked for an acknowledgement. */
  private ackDue = false;

  constructor(
    private readonly postUrl: string,
    private readonly settings: OutboxSettings,
  ) {}

  /** Bytes not yet accepted by the server. */
  get bufferedAmount(): number {
    return this.queuedBytes;
  }

  push(message: string): void {
    if (this.stopped || this.ending) return;
    this.queue.push(message);
    this.queuedBytes += utf8ByteLength(message);
    // a microtask later: a close right after this send (a /leave) marks the POST as ending
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** An event with sequence `seq` arrived; acknowledges every `ackEvery` events. */
  received(seq: number): void {
    if (seq > this.lastSeen) this.lastSeen = seq;
    this.pump();
  }

  /** A `ping` with sequence `seq` arrived: acknowledges it now, whatever `ackEvery` says. */
  acknowledge(seq: number): void {
    if (seq > this.lastSeen) this.lastSeen = seq;
    this.ackDue = true;
    this.pump();
  }

  /** Takes no more messages; what is queued (a `/leave`, typically) is still sent. */
  end(onEnded?: () => void): void {
    if (this.stopped || this.ending) return;
    this.ending = true;
    this.onEnded = onEnded;
    if (this.sending && this.queue.length > 0) return this.sendRestNow();
    // what is queued goes first (the pump is a microtask away): drain() finishes the ending
    if (!this.sending && this.queue.length === 0) this.finishEnding();
  }

  /**
   * A POST is in flight as the session ends (often an acknowledgement). A closing page may cut
   * it, and the retry would need a timer that a page gone no longer gets, so the `/leave`
   * behind it would never leave. What is queued goes at once instead, each with `keepalive` and
   * its own `seq`: the server drops a repeat of the in-flight message by its `seq`, and the
   * DELETE follows once these are answered (if the page is still there to send it; if not, the
   * resume window ends the session).
   */
  private sendRestNow(): void {
    const sent = this.queue.splice(0).map((message) =>
      this.request(message, ++this.clientSeq)
        .then((response) => response.text())
        .catch(() => undefined),
    );
    this.queuedBytes = 0;
    this.stopped = true;
    const onEnded = this.onEnded;
    this.onEnded = undefined;
    void Promise.allSettled(sent).then(() => onEnded?.());
  }

  private finishEnding(): void {
    this.stopped = true;
    const onEnded = this.onEnded;
    this.onEnded = undefined;
    onEnded?.();
  }

  /** Drops everything: the session is gone. */
  stop(): void {
    this.stopped = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
  }

  private wantsAck(): boolean {
    const unacked = this.lastSeen - this.lastAcked;
    return unacked > 0 && (this.ackDue || unacked >= this.settings.ackEvery);
  }

  private pump(): void {
    if (this.sending || this.stopped || (this.queue.length === 0 && !this.wantsAck())) return;
    this.sending = true;
    void this.drain();
  }

  private async drain(): Promise<void> {
    while (!this.stopped && (this.queue.length > 0 || this.wantsAck())) {
      const message = this.queue[0];
      const seq = message === undefined ? undefined : this.clientSeq + 1;
      if (!(await this.post(message ?? '', seq))) return;
      if (this.stopped) return; // the ending sent the rest itself (sendRestNow)
      if (message !== undefined) {
        this.queue.shift();
        this.queuedBytes -= utf8ByteLength(message);
        this.clientSeq = seq!;
      }
    }
    this.sending = false;
    if (this.ending && !this.stopped) this.finishEnding();
  }

  /**
   * One POST, retried on network errors and 502/503/504 until `retryForMs` (a retry carries the
   * same `seq`: delivered once); false when the session is lost.
   */
  private async post(body: string, seq: number | undefined): Promise<boolean> {
    const deadline = Date.now() + this.settings.retryForMs;
    for (let attempt = 0; ; attempt++) {
      const ack = this.lastSeen;
      let status: number;
      try {
        const response = await this.request(body, seq, AbortSignal.timeout(REQUEST_TIMEOUT_MS));
        status = response.status;
        await response.text(); // frees the connection for the next POST
        if (TRY_AGAIN.has(status)) throw new Error(`POST answered ${status}`);
      } catch (error) {
        if (this.stopped) return false;
        if (Date.now() >= deadline) {
          this.fail(`POST failed for ${this.settings.retryForMs} ms: ${String(error)}`);
          return false;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(50 * 2 ** attempt, 1000)));
        continue;
      }
      if (status >= 200 && status < 300) {
        if (ack > this.lastAcked) this.lastAcked = ack;
        if (ack >= this.lastSeen) this.ackDue = false;
        return true;
      }
      if (REFUSED_IN_BAND.has(status)) return true;
      this.fail(`POST answered ${status}`);
      return false;
    }
  }

  /** One POST of `body`, acknowledging what was seen; `keepalive` once the session ends. */
  private request(body: string, seq: number | undefined, signal?: AbortSignal): Promise<Response> {
    const url = `${this.postUrl}?ack=${this.lastSeen}${seq === undefined ? '' : `&seq=${seq}`}`;
    return this.settings.fetch(url, {
      method: 'POST',
      body,
      keepalive: this.ending && utf8ByteLength(body) <= KEEPALIVE_MAX_BYTES,
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      credentials: this.settings.credentials,
      ...(signal && { signal }),
    });
  }

  private fail(reason: string): void {
    this.sending = false;
    if (this.stopped) return;
    this.stop();
    this.settings.onFatal(reason);
  }
}
