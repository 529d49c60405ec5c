/**
 * The status page as an operator sees it at `GET /` in Chromium: live counts, transports and
 * rooms while peers come and go, names hidden without the admin token. Screenshots go to
 * apps/demo/test-artifacts for review (kept by CI).
 */
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '@switchyard/server';
import {
  launchChromium,
  pageProblems,
  rawClient,
  waitFor,
  type RawClient,
} from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { sseConnector } from '@switchyard/transport-sse/client';

const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const ADMIN = 'status-page-admin-token-0123456789';
let browser: Browser;
const servers: RunningServer[] = [];
const clients: RawClient[] = [];

beforeAll(async () => {
  browser = await launchChromium();
  await mkdir(ARTIFACTS, { recursive: true });
}, 60_000);
afterEach(async () => {
  for (const client of clients.splice(0)) client.pipe.close();
  for (const server of servers.splice(0)) await server.close();
});
afterAll(() => browser?.close());

async function serve(adminToken?: string): Promise<RunningServer> {
  const server = await startServer({
    port: 0,
    logger: pino({ level: 'silent' }),
    transports: ['ws', 'socket.io', 'sse'],
    ...(adminToken !== undefined && { adminToken }),
  });
  servers.push(server);
  return server;
}

async function open(server: RunningServer): Promise<Page> {
  const page = await (
    await browser.newContext({ viewport: { width: 1000, height: 640 } })
  ).newPage();
  const problems = pageProblems(page);
  await page.goto(`${server.url}/`);
  await waitFor(async () => (await page.textContent('#state'))?.startsWith('live'), 'a first poll');
  expect(problems).toEqual([]);
  return page;
}

const memberChips = (page: Page, room: string) =>
  page.$$eval(`#rooms tr[data-room="${room}"] .chip`, (chips) =>
    chips.map((chip) => chip.textContent),
  );

describe('the status page at /', () => {
  it('updates live: peers joining on two transports, a room appearing, rates, a peer leaving', async () => {
    const server = await serve();
    const page = await open(server);
    expect(await page.textContent('[data-testid=connections]')).toBe('0');
    expect(await page.textContent('#rooms')).toContain('no rooms yet');

    const a = await rawClient(webSocketConnector(server.url), ['alice', 'standup']);
    const b = await rawClient(sseConnector(server.url), ['bob', 'standup']);
    clients.push(a, b);
    await waitFor(
      async () => (await memberChips(page, 'standup')).length === 2,
      'two peers on the page',
    );
    expect(await memberChips(page, 'standup')).toEqual(['alice · ws', 'bob · sse']);
    expect(await page.textContent('[data-testid=connections]')).toBe('2');
    expect(await page.textContent('#transports tr[data-transport="sse"]')).toBe('sse1');

    for (let n = 0; n < 40; n++) a.say(`/chat|alice|${n}`);
    await waitFor(
      async () => Number(await page.textContent('[data-testid=rate-in]')) >= 5,
      'the burst in the message rate',
    );
    await page.screenshot({ path: `${ARTIFACTS}status.png`, fullPage: true });

    b.say('/leave|bob|{"id":"bob"}');
    await waitFor(
      async () => (await memberChips(page, 'standup')).length === 1,
      "bob's leave on the page",
    );
  }, 60_000);

  it('with an admin token, hides names until the token is entered', async () => {
    const server = await serve(ADMIN);
    clients.push(await rawClient(webSocketConnector(server.url), ['carol', 'private-room']));
    const page = await open(server);
    await waitFor(async () => (await page.$$('#rooms .chip')).length === 1, 'the room');
    expect(await page.textContent('#rooms')).not.toContain('private-room');
    expect(await page.isVisible('#admin')).toBe(true);

    await page.fill('#admin-token', ADMIN);
    await page.click('#admin button');
    await waitFor(
      async () => (await memberChips(page, 'private-room')).length === 1,
      'names after the token',
    );
    expect(await memberChips(page, 'private-room')).toEqual(['carol · ws']);
    expect(await page.isVisible('#admin')).toBe(false);
    await page.screenshot({ path: `${ARTIFACTS}status-admin.png`, fullPage: true });
  }, 60_000);
});
