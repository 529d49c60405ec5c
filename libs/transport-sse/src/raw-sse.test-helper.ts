/**
 * A plain HTTP client for the SSE endpoints, written from docs/transports/sse.md alone: `fetch`
 * and a line parser, nothing from Switchyard. Tests use it to check the wire format.
 */

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
  readonly events: RawEvent[];
  readonly comments: string[];
  /** True once the server ended the response. */
  readonly ended: boolean;
  /** The next event (after those already taken) that passes `filter`. */
  next(filter?: (event: RawEvent) => boolean, timeoutMs?: number): Promise<RawEvent>;
  /** Resolves when the server ends the response. */
  end(timeoutMs?: number): Promise<void>;
  /** Drops the connection from the client side. */
  cut(): void;
}

async function poll<T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Opens a stream and parses it (event, id, data, retry fields; comments kept apart). */
export async function openRawStream(
  url: string,
  headers: Record<string, string> = {},
): Promise<RawStream> {
  const abort = new AbortController();
  const response = await fetch(url, { headers, signal: abort.signal });
  const events: RawEvent[] = [];
  const comments: string[] = [];
  let ended = false;
  let cursor = 0;
  let pending = '';
  let field = { event: '', id: undefined as string | undefined, data: [] as string[] };
  let retry: number | undefined;
  const line = (text: string) => {
    if (text === '') {
      if (field.data.length > 0)
        events.push({
          event: field.event || 'message',
          id: field.id,
          data: field.data.join('\n'),
          retry,
        });
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
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body ?? []) {
        pending += decoder.decode(chunk as Uint8Array, { stream: true });
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
    events,
    comments,
    get ended() {
      return ended;
    },
    next(filter = () => true, timeoutMs = 5000) {
      return poll(
        () => {
          while (cursor < events.length) {
            const event = events[cursor++]!;
            if (filter(event)) return event;
          }
          return undefined;
        },
        'an event',
        timeoutMs,
      );
    },
    end: (timeoutMs = 5000) =>
      poll(() => (ended ? true : undefined), 'the end', timeoutMs).then(() => undefined),
    cut: () => abort.abort(),
    async [Symbol.asyncDispose]() {
      abort.abort();
    },
  };
}
