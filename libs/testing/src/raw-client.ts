/** A client that speaks raw frames over any connector, for wire-level tests. */
import type { CloseInfo, Connector, Pipe } from '@switchyard/protocol';
import { waitUntil } from '@switchyard/test-kit';

/** A raw connection: send frames, read what arrived, wait for more. */
export interface RawClient extends AsyncDisposable {
  readonly pipe: Pipe;
  /** Every message received so far. */
  readonly received: string[];
  closeInfo?: CloseInfo;
  say(message: string): void;
  /** Waits for the next message (after those already taken) that passes `filter`. */
  next(filter?: (message: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Messages received and not yet taken by `next`/`take`. */
  take(): string[];
  /** Waits until the pipe closes. */
  closed(timeoutMs?: number): Promise<CloseInfo>;
}

/** Opens a raw client; with `announce` = [id, room] it announces and waits for `/roominfo`. */
export async function rawClient(
  connector: Connector,
  announce?: [id: string, room: string],
): Promise<RawClient> {
  const pipe = await connector({ signal: AbortSignal.timeout(5000) });
  let cursor = 0;
  const client: RawClient = {
    pipe,
    received: [],
    say: (message) => pipe.send(message),
    async next(filter = () => true, timeoutMs = 5000) {
      return waitUntil(
        () => {
          while (cursor < client.received.length) {
            const message = client.received[cursor++]!;
            if (filter(message)) return message;
          }
          return undefined;
        },
        'a message',
        timeoutMs,
      );
    },
    take() {
      const fresh = client.received.slice(cursor);
      cursor = client.received.length;
      return fresh;
    },
    closed: (timeoutMs = 5000) => waitUntil(() => client.closeInfo, 'the pipe to close', timeoutMs),
    async [Symbol.asyncDispose]() {
      pipe.close(1000, 'test done');
    },
  };
  pipe.onMessage((message) => client.received.push(message));
  pipe.onClose((info) => (client.closeInfo = info));
  if (announce) {
    const [id, room] = announce;
    client.say(`/announce|${id}|${JSON.stringify({ id, room })}`);
    await client.next((m) => m.startsWith('/roominfo|'));
  }
  return client;
}

/** The decoded payload of an `/error` frame, or undefined for other frames. */
export function errorCodeOf(message: string): string | undefined {
  if (!message.startsWith('/error|')) return undefined;
  return (JSON.parse(message.slice(7)) as { code?: string }).code;
}
