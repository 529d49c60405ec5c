/**
 * A plain HTTP client for the SSE endpoints, written from docs/transports/sse.md alone: `fetch`
 * and a line parser, no Switchyard client or protocol code (only the test kit's inbox and
 * deadlines). Tests use it to check the wire format; `rawSsePeer` is the pipe contract's
 * misbehaving peer.
 */
import { inbox, waitUntil, type Inbox, type RawPeer } from '@switchyard/testing';

/** One dispatched event, as the SSE parsing rules define it. */
export interface RawEvent {
  readonly event: string;
  readonly id: string | undefined;
  readonly data: string;
  readonly retry: number | undefined;
}

/** An open `GET /sse` response, parsed as it arrives. */
export interface RawStream extends AsyncDisposable {
  readonly response: Response;
  /** Every event received so far, in order. */
  readonly events: readonly RawEvent[];
  readonly comments: string[];
  /** True once the server ended the response. */
  readonly ended: boolean;
  /** Settles when the response ends, however it ends. */
  readonly finished: Promise<void>;
  /** The next event (after those already taken) that passes `filter`. */
  next(filter?: (event: RawEvent) => boolean, timeoutMs?: number): Promise<RawEvent>;
  /** Resolves when the server ends the response. */
  end(timeoutMs?: number): Promise<void>;
  /** Drops the connection from the client side. */
  cut(): void;
  /** Stops reading the response body: what the server writes piles up on the connection. */
  pause(): void;
}

/** The `<seq>` of an event id `<session>.<seq>`. */
export function seqOf(id: string | undefined): number | undefined {
  const seq = id?.slice(id.lastIndexOf('.') + 1);
  return seq && /^\d+$/.test(seq) ? Number(seq) : undefined;
}

/**
 * Opens a stream and parses it (event, id, data, retry fields; comments kept apart). `onEvent`
 * sees each event as it is dispatched.
 */
export async function openRawStream(
  url: string,
  headers: Record<string, string> = {},
  onEvent?: (event: RawEvent) => void,
): Promise<RawStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const events = inbox<RawEvent>('an event');
  const comments: string[] = [];
  let ended = false;
  let paused: Promise<unknown> | undefined;
  let pending = '';
  let field = { event: '', id: undefined as string | undefined, data: [] as string[] };
  let retry: number | undefined;
  const line = (text: string) => {
    if (text === '') {
      if (field.data.length > 0) {
        const event = {
          event: field.event || 'message',
          id: field.id,
          data: field.data.join('\n'),
          retry,
        };
        events.push(event);
        onEvent?.(event);
      }
      field = { event: '', id: undefined, data: [] };
      return;
    }
    if (text.startsWith(':')) return void comments.push(text.slice(1).trim());
    const colon = text.indexOf(':');
    const name = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') field.event = value;
    else if (name === 'id') field.id = value;
    else if (name === 'data') field.data.push(value);
    else if (name === 'retry') retry = Number(value);
  };
  const finished = (async () => {
    const decoder = new TextDecoder();
    try {
      const reader = response.body!.getReader();
      for (;;) {
        if (paused) await paused;
        const { done, value } = await reader.read();
        if (done) break;
        pending += decoder.decode(value, { stream: true });
        const lines = pending.split(/\r\n|\r|\n/);
        pending = lines.pop()!;
        for (const text of lines) line(text);
      }
    } catch {
      // cut
    }
    ended = true;
  })();
  return {
    response,
    events: events.received,
    comments,
    get ended() {
      return ended;
    },
    finished,
    next: (filter, timeoutMs) => events.next(filter, timeoutMs),
    end: (timeoutMs = 5000) =>
      waitUntil(() => ended, 'the end of the stream', timeoutMs).then(() => undefined),
    cut: () => abort.abort(),
    pause() {
      paused ??= new Promise((resolve) => abort.signal.addEventListener('abort', resolve));
    },
    async [Symbol.asyncDispose]() {
      abort.abort();
    },
  };
}

/** A raw SSE session as a pipe-contract peer. */
export interface RawSsePeer extends RawPeer {
  readonly stream: RawStream;
  readonly session: string;
  readonly inbox: Inbox<string>;
}

/**
 * Opens a session at `<base><path>` the way the docs' minimal client does: messages are POSTed
 * one at a time with `seq=` and `ack=`, and every received event is acknowledged (an empty POST
 * when there is nothing to send). `kill` drops the stream and posts nothing more (the session
 * then waits `resumeWindowMs` for a resume); `stopReading` stops acknowledging and reading, so
 * the server's unacknowledged bytes grow. It "answers probes": the server's liveness probe is
 * whether a stream is attached, and this peer's is.
 */
export async function rawSsePeer(base: string, path = '/sse'): Promise<RawSsePeer> {
  const received = inbox<string>('an SSE message');
  let lastSeen = 0;
  let sent = 0;
  let reading = true;
  let gone = false;
  let ackQueued = false;
  let closedWith: (code: number | undefined) => void = () => undefined;
  const closed = new Promise<number | undefined>((resolve) => (closedWith = resolve));
  let postUrl = '';
  let lastAcked = 0;
  let queue: Promise<void> = Promise.resolve();

  /** POSTs one body after the previous POST answered, acknowledging what was read. */
  const post = (body: BodyInit | undefined, seq?: number) => {
    queue = queue.then(async () => {
      const ackOnly = body === undefined;
      if (ackOnly) ackQueued = false;
      if (gone || (ackOnly && (!reading || lastSeen <= lastAcked))) return;
      const ack = lastSeen;
      try {
        const response = await fetch(
          `${postUrl}?ack=${ack}${seq === undefined ? '' : `&seq=${seq}`}`,
          {
            method: 'POST',
            headers: { 'content-type': 'text/plain; charset=utf-8' },
            body: body ?? '',
          },
        );
        await response.arrayBuffer();
        if (response.ok) lastAcked = Math.max(lastAcked, ack);
      } catch {
        // the server went away; the stream tells the rest
      }
    });
  };
  const acknowledge = () => {
    if (ackQueued || !reading) return;
    ackQueued = true;
    post(undefined);
  };

  // it asks for acknowledged heartbeats and never acknowledges one: a peer that reads what it
  // is sent but answers no probe
  const url = `${base}${path}?heartbeat=ack`;
  const stream = await openRawStream(url, { accept: 'text/event-stream' }, (event) => {
    if (!reading) return;
    if (event.event === 'close') {
      closedWith((JSON.parse(event.data) as { code?: number }).code);
      return;
    }
    if (event.event === 'session' || event.event === 'ping') return;
    lastSeen = Math.max(lastSeen, seqOf(event.id) ?? 0);
    if (event.event === 'message') received.push(event.data);
    else if (event.event === 'json') received.push(JSON.parse(event.data) as string);
    acknowledge();
  });
  const first = await stream.next((event) => event.event === 'session');
  const session = (JSON.parse(first.data) as { session: string }).session;
  postUrl = `${base}${path}/${encodeURIComponent(session)}`;
  void stream.finished.then(() => closedWith(undefined));

  const drop = () => {
    gone = true;
    stream.cut();
  };
  return {
    stream,
    session,
    inbox: received,
    answersProbes: false,
    say: (message) => post(message, ++sent),
    sayUnreadable: () => post(new Uint8Array([0x2f, 0xff, 0xfe]), ++sent),
    kill: drop,
    stopReading() {
      reading = false;
      stream.pause();
    },
    closed: () => closed,
    async [Symbol.asyncDispose]() {
      drop();
      await queue;
    },
  };
}
