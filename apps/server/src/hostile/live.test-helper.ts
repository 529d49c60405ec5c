/** Shared parts of the hostile specs: honest WebSocket peers and `/healthz` of a live server. */
import { WebSocket } from 'ws';
import { waitUntil } from '@switchyard/testing';

/** What the hostile specs read from `/healthz`. */
export interface Health {
  connections: number;
  members: number;
  errorsSent: Record<string, number>;
  dropped: Record<string, number>;
  closed: Record<string, number>;
  transports: Record<string, number>;
}

export const health = async (port: number) =>
  (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as Health;

/** A WebSocket member of `room` that records what it reads. */
export async function peer(port: number, id: string, room: string) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
  const received: string[] = [];
  ws.on('message', (data) => received.push(data.toString()));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.send(`/announce|${id}|${JSON.stringify({ id, room })}`);
  await waitUntil(() => received.some((m) => m.startsWith('/roominfo|')), `${id} joined`);
  return { ws, received };
}

/**
 * Honest traffic through an attack: `from` sends `to` a numbered `/to` every 50 ms; `stop()`
 * waits until every one arrived and returns them, with the worst delivery delay seen.
 */
export function honestTraffic(
  from: Awaited<ReturnType<typeof peer>>,
  to: Awaited<ReturnType<typeof peer>>,
  fromId: string,
  toId: string,
) {
  let sent = 0;
  const sentAt: number[] = [];
  let worstMs = 0;
  const prefix = `/to|${toId}|/seq|${fromId}|`;
  to.ws.on('message', (data) => {
    const text = data.toString();
    if (text.startsWith(prefix))
      worstMs = Math.max(worstMs, Date.now() - sentAt[Number(text.slice(prefix.length))]!);
  });
  const timer = setInterval(() => {
    sentAt.push(Date.now());
    from.ws.send(`${prefix}${sent++}`);
  }, 50);
  return {
    async stop(timeoutMs = 10_000) {
      clearInterval(timer);
      const count = sent;
      const arrived = () => to.received.filter((m) => m.startsWith(prefix));
      await waitUntil(
        () => arrived().length === count || undefined,
        'every honest message',
        timeoutMs,
      );
      return {
        sent: count,
        arrived: arrived(),
        expected: Array.from({ length: count }, (_, i) => `${prefix}${i}`),
        worstMs,
      };
    },
  };
}
