import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { errorCodeOf, rawClient, type RawClient } from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { startServer, type RunningServer } from './server.ts';

let server: RunningServer | undefined;
const clients: RawClient[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.pipe.close();
  await server?.close();
});

const scrape = async (url: string) => {
  const response = await fetch(`${url}/metrics`);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
  return response.text();
};

describe('GET /metrics', () => {
  it('exposes the hub stats in Prometheus format, counting each event once across scrapes', async () => {
    server = await startServer({ port: 0, logger: pino({ level: 'silent' }) });
    const connector = webSocketConnector(server.url);
    const a = await rawClient(connector, ['a', 'room']);
    const b = await rawClient(connector, ['b', 'room']);
    clients.push(a, b);
    a.say('not a command');
    expect(errorCodeOf(await a.next((m) => m.startsWith('/error|')))).toBe('not-a-command');
    const first = await scrape(server.url);
    expect(first).toMatch(/^switchyard_members 2$/m);
    expect(first).toMatch(/^switchyard_rooms 1$/m);
    expect(first).toMatch(/^switchyard_errors_sent_total\{code="not-a-command"\} 1$/m);
    expect(first).toMatch(/^switchyard_messages_in_total 3$/m);
    expect(first).toMatch(/^switchyard_process_resident_memory_bytes \d+/m);
    const second = await scrape(server.url);
    expect(second).toMatch(/^switchyard_errors_sent_total\{code="not-a-command"\} 1$/m);
    expect(second).toMatch(/^switchyard_messages_in_total 3$/m);
  });
});
