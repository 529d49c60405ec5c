/**
 * Interop, direction 2: a Switchyard signaller (`metadata: 'bare'`) against the original
 * rtc-switchboard@3.2.0 server, in one room with an original rtc-signaller@6.3.0 client.
 * The original server runs in a child process (fixtures/original-switchboard.cjs says why).
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { nextEvent, waitUntil } from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { originalSignaller } from '../original-client.test-helper.ts';
import {
  asObject,
  asRecord,
  killChild,
  newRoom,
  originalEvent,
  recordEvents,
  spawnFixture,
  type Original,
} from './interop.test-helper.ts';

let board: ChildProcess | undefined;
const ours: Signaller[] = [];
const originals: Original[] = [];

afterEach(async () => {
  for (const signaller of ours.splice(0)) signaller.leave();
  for (const original of originals.splice(0)) original.leave();
  const child = board;
  board = undefined;
  if (!child) return;
  // ending stdin asks the fixture to reset the board and close; the PID kill is the fallback
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.stdin!.end();
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 2000))]);
  await killChild(child);
});

/**
 * `require('rtc-switchboard')(httpServer)` on a free loopback port, in a child process: the
 * board loads collections@1.2.4, which rewrites Array.prototype.find (and more) process-wide.
 */
async function startOriginalSwitchboard(): Promise<{ url: string }> {
  const { first } = await spawnFixture<{ port: number }>(
    'original-switchboard.cjs',
    [],
    (child) => (board = child),
  );
  return { url: `http://127.0.0.1:${first.port}` };
}

/** An original client and a Switchyard client meet in one room on the original server. */
async function meet() {
  const { url } = await startOriginalSwitchboard();
  const room = newRoom();
  const original = originalSignaller(url) as Original;
  originals.push(original);
  const signaller = createSignaller(webSocketConnector(url), { metadata: 'bare' });
  ours.push(signaller);

  const originalInfo = originalEvent(original, 'message:roominfo');
  original.announce({ room, name: 'rtc.io' });
  expect(asObject((await originalInfo)[0])).toEqual({ memberCount: 1 });

  const framesAtOriginal = recordEvents(original, 'rawdata');
  const ourFrames: string[] = [];
  signaller.on('rawdata', (frame) => void ourFrames.push(frame));
  const seenByOriginal = originalEvent(original, 'peer:announce');
  const seenByUs = nextEvent(signaller, 'peer:announce');
  const ourInfo = nextEvent(signaller, 'roominfo');
  signaller.announce({ room, name: 'switchyard' });
  expect((await ourInfo)[0]).toEqual({ memberCount: 2 });
  return { room, original, signaller, framesAtOriginal, ourFrames, seenByOriginal, seenByUs };
}

describe('Switchyard signaller → original rtc-switchboard 3.2.0', () => {
  it('both sides discover each other, with the original record and data shapes', async () => {
    const { room, original, signaller, framesAtOriginal, ourFrames, seenByOriginal, seenByUs } =
      await meet();
    const ourId = String(signaller.id);

    // the original sees our broadcast announce, bare dialect, relayed byte-for-byte
    const [data, record] = await seenByOriginal;
    expect(data).toMatchObject({
      id: ourId,
      room,
      name: 'switchyard',
      browser: 'node',
      browserVersion: expect.any(String),
      agent: expect.stringMatching(/^switchyard@/),
    });
    expect(asRecord(record)).toMatchObject({ id: ourId, data: { name: 'switchyard' } });
    expect(asRecord(record).roleIdx).toBe([ourId, original.id].sort().indexOf(ourId));
    const announce = framesAtOriginal.calls.map(([frame]) => String(frame));
    expect(announce.find((frame) => frame.startsWith('/announce|'))).toMatch(
      new RegExp(`^/announce\\|${ourId}\\|\\{`),
    );

    // we see the original's /to reply and do not answer it (it arrived inside /to)
    const [peerData, peer] = await seenByUs;
    expect(peerData).toMatchObject({
      id: original.id,
      room,
      name: 'rtc.io',
      agent: 'signaller@6.3.0',
    });
    expect(peer).toMatchObject({ id: original.id, data: { name: 'rtc.io' } });
    expect(peer.roleIdx).toBe([original.id, ourId].sort().indexOf(original.id));
    expect(ourFrames.find((frame) => frame.startsWith('/to|'))).toMatch(
      new RegExp(`^/to\\|${ourId}\\|/announce\\|${original.id}\\|\\{`),
    );
    expect(signaller.isMaster(original.id)).toBe(ourId < original.id);
    expect(original.isMaster(ourId)).toBe(original.id < ourId);
  });

  it('broadcast and /to both ways, with message:<cmd>(payload…, srcState, raw)', async () => {
    const { original, signaller, seenByOriginal, seenByUs } = await meet();
    const ourId = String(signaller.id);
    await seenByOriginal;
    await seenByUs;

    const atOriginal = originalEvent(original, 'message:chat');
    signaller.send('/chat', { text: 'from switchyard' });
    const [payload, source, raw] = await atOriginal;
    expect(payload).toEqual({ text: 'from switchyard' });
    expect(asRecord(source)).toMatchObject({ id: ourId, data: { name: 'switchyard' } });
    expect(raw).toBe(`/chat|${ourId}|{"text":"from switchyard"}`);

    const atUs = nextEvent(signaller, 'message:chat');
    original.send('/chat', { text: 'from rtc.io' });
    const [ourPayload, ourSource, ourRaw] = await atUs;
    expect(ourPayload).toEqual({ text: 'from rtc.io' });
    expect(ourSource).toMatchObject({ id: original.id, data: { name: 'rtc.io' } });
    expect(ourRaw).toBe(`/chat|${original.id}|{"text":"from rtc.io"}`);

    const directAtOriginal = originalEvent(original, 'message:hello');
    signaller.to(original.id).send('/hello', { a: 1 });
    const [direct, directSource, directRaw] = await directAtOriginal;
    expect(direct).toEqual({ a: 1 });
    expect(asRecord(directSource).id).toBe(ourId);
    expect(directRaw).toBe(`/to|${original.id}|/hello|${ourId}|{"a":1}`);

    const directAtUs = nextEvent(signaller, 'message:hello');
    original.to(ourId).send('/hello', { b: 2 });
    const [ourDirect, ourDirectSource, ourDirectRaw] = await directAtUs;
    expect(ourDirect).toEqual({ b: 2 });
    expect(ourDirectSource).toMatchObject({ id: original.id });
    expect(ourDirectRaw).toBe(`/to|${ourId}|/hello|${original.id}|{"b":2}`);

    // our leave() is the original's: /leave|<id>|{"id":"<id>"}, seen as message:leave
    const left = originalEvent(original, 'message:leave');
    signaller.leave();
    const [leavePayload, leaveSource, leaveRaw] = await left;
    expect(leavePayload).toEqual({ id: ourId });
    expect(asRecord(leaveSource).id).toBe(ourId);
    expect(leaveRaw).toBe(`/leave|${ourId}|{"id":"${ourId}"}`);
    await waitUntil(() => signaller.readyState === 'closed', 'our signaller to close');
  });
});
