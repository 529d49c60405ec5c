/**
 * Interop in one room on the Switchyard server: an original rtc-signaller@6.3.0 (bare dialect)
 * and a Switchyard signaller (json dialect, the default). Each reads every message in its own
 * dialect (docs/protocol.md §2): the original `/cmd|<id>|…`, ours `/cmd|{"id":"<id>"}|…`. An original
 * that got the json form would see an object where the sender id belongs and lose its peer
 * record (docs/conformance.md Q1).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createSignaller, type Signaller, type SignallerOptions } from '@switchyard/signaller';
import { nextEvent, waitUntil } from '@switchyard/testing';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import type { RunningServer } from '../server.ts';
import {
  asRecord,
  createFleet,
  newRoom,
  originalEvent,
  recordEvents,
  type Original,
} from './interop.test-helper.ts';

const GRACE_MS = 300;

const fleet = createFleet();
const ours: Signaller[] = [];
afterEach(async () => {
  for (const signaller of ours.splice(0)) signaller.leave();
  await fleet.dispose();
});

/** An original and a Switchyard client in one room, knowing each other. */
async function mixedRoom(options: SignallerOptions = {}) {
  const server: RunningServer = await fleet.server(GRACE_MS);
  const room = newRoom();
  const original: Original = fleet.original();
  const signaller = createSignaller(webSocketConnector(server.url), options);
  ours.push(signaller);
  const ourId = String(signaller.id);

  const originalInfo = originalEvent(original, 'message:roominfo');
  original.announce({ room, name: 'rtc.io' });
  await originalInfo;
  const originalFrames = recordEvents(original, 'rawdata');
  const ourFrames: string[] = [];
  signaller.on('rawdata', (frame) => void ourFrames.push(frame));
  const seenByOriginal = originalEvent(original, 'peer:announce');
  const seenByUs = nextEvent(signaller, 'peer:announce');
  signaller.announce({ room, name: 'switchyard' });
  const [data, record] = await seenByOriginal;
  const [ourData, ourRecord] = await seenByUs;
  return {
    server,
    room,
    original,
    signaller,
    ourId,
    originalFrames: () => originalFrames.calls.map(([frame]) => String(frame)),
    ourFrames,
    discovery: { data, record, ourData, ourRecord },
  };
}

describe('mixed room on the Switchyard server: original (bare) + Switchyard (json)', () => {
  it('each side reads announces, broadcasts, /to and /leave in its own dialect', async () => {
    const { original, signaller, ourId, originalFrames, ourFrames, discovery } = await mixedRoom();
    expect(signaller.attributes).toMatchObject({ id: ourId });

    // discovery: our announce reaches the original with a bare sender, its reply reaches us json
    expect(originalFrames().find((frame) => frame.startsWith('/announce|'))).toMatch(
      new RegExp(`^/announce\\|${ourId}\\|\\{`),
    );
    expect(discovery.data).toMatchObject({ id: ourId, name: 'switchyard' });
    expect(asRecord(discovery.record)).toMatchObject({ id: ourId, data: { name: 'switchyard' } });
    expect(ourFrames.find((frame) => frame.startsWith('/to|'))).toMatch(
      new RegExp(`^/to\\|${ourId}\\|/announce\\|\\{"id":"${original.id}"\\}\\|\\{`),
    );
    expect(discovery.ourData).toMatchObject({ id: original.id, agent: 'signaller@6.3.0' });
    expect(discovery.ourRecord).toMatchObject({ id: original.id, data: { name: 'rtc.io' } });

    // broadcast, ours → original: stamped bare, so the original finds our record
    const chatAtOriginal = originalEvent(original, 'message:chat');
    signaller.send('/chat', { text: 'from switchyard' });
    const [payload, source, raw] = await chatAtOriginal;
    expect(payload).toEqual({ text: 'from switchyard' });
    expect(asRecord(source)).toMatchObject({ id: ourId, data: { name: 'switchyard' } });
    expect(raw).toBe(`/chat|${ourId}|{"text":"from switchyard"}`);

    // broadcast, original → ours: stamped json
    const chatAtUs = nextEvent(signaller, 'message:chat');
    original.send('/chat', { text: 'from rtc.io' });
    const [ourPayload, ourSource, ourRaw] = await chatAtUs;
    expect(ourPayload).toEqual({ text: 'from rtc.io' });
    expect(ourSource).toMatchObject({ id: original.id, data: { name: 'rtc.io' } });
    expect(ourRaw).toBe(`/chat|{"id":"${original.id}"}|{"text":"from rtc.io"}`);

    // /to both ways
    const helloAtOriginal = originalEvent(original, 'message:hello');
    signaller.to(original.id).send('/hello', { a: 1 });
    const [, helloSource, helloRaw] = await helloAtOriginal;
    expect(asRecord(helloSource).id).toBe(ourId);
    expect(helloRaw).toBe(`/to|${original.id}|/hello|${ourId}|{"a":1}`);

    const helloAtUs = nextEvent(signaller, 'message:hello');
    original.to(ourId).send('/hello', { b: 2 });
    const [ourHello, , ourHelloRaw] = await helloAtUs;
    expect(ourHello).toEqual({ b: 2 });
    expect(ourHelloRaw).toBe(`/to|${ourId}|/hello|{"id":"${original.id}"}|{"b":2}`);

    // the original's leave() reaches us json, and we forget the peer ([ext] peer:leave)
    const leaveAtUs = nextEvent(signaller, 'message:leave');
    const forgotten = nextEvent(signaller, 'peer:leave');
    original.leave();
    const [leavePayload, , leaveRaw] = await leaveAtUs;
    expect(leavePayload).toEqual({ id: original.id, reason: 'leave' });
    expect(leaveRaw).toBe(
      `/leave|{"id":"${original.id}"}|{"id":"${original.id}","reason":"leave"}`,
    );
    expect((await forgotten)[0]).toBe(original.id);
    expect(signaller.peers.has(original.id)).toBe(false);
  });

  it("the server's /leave after a hard disconnect is written in each recipient's dialect", async () => {
    // neither side reconnects, so both grace windows run out
    const { server, room, original, ourId } = await mixedRoom({ reconnect: false });
    const atOriginal = originalEvent(original, 'message:leave', () => true, GRACE_MS + 3000);
    expect(server.hub.disconnect(ourId)).toBe(true);
    const [payload, source, raw] = await atOriginal;
    expect(payload).toEqual({ id: ourId, reason: 'disconnect' });
    expect(asRecord(source).id).toBe(ourId);
    expect(raw).toBe(`/leave|${ourId}|{"id":"${ourId}","reason":"disconnect"}`);
    expect(server.hub.roomMembers(room)).toEqual([original.id]);

    // and the other way: a fresh json client sees the original's server-side /leave as json
    const watcher = createSignaller(webSocketConnector(server.url), { reconnect: false });
    ours.push(watcher);
    const watcherInfo = nextEvent(watcher, 'roominfo');
    watcher.announce({ room });
    expect((await watcherInfo)[0].memberCount).toBe(2);
    await waitUntil(() => watcher.peers.has(original.id), 'the watcher to know the original');
    const atWatcher = nextEvent(watcher, 'message:leave', () => true, GRACE_MS + 3000);
    expect(server.hub.disconnect(original.id)).toBe(true);
    const [, , watcherRaw] = await atWatcher;
    expect(watcherRaw).toBe(
      `/leave|{"id":"${original.id}"}|{"id":"${original.id}","reason":"disconnect"}`,
    );
  });
});
