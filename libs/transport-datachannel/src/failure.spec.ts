import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { createHub } from '@switchyard/hub';
import type { CloseInfo, Pipe } from '@switchyard/protocol';
import { createSignaller } from '@switchyard/signaller';
import { errorCodeOf, nextEvent, rawClient, waitUntil } from '@switchyard/testing';
import { memoryServer } from '@switchyard/transport-memory/server';
import { DATA_CHANNEL_LABEL } from './channel.ts';
import { attachDataChannel } from './server.ts';
import { createWebRtcKit, isLoopbackCandidate, loopbackSdp } from './webrtc.test-helper.ts';

const kit = createWebRtcKit();
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  kit.close();
});

interface Guest {
  readonly child: ChildProcess;
  readonly pc: RTCPeerConnection;
  /** The hub-side pipe of the guest's channel, once attached. */
  pipe?: Pipe;
  closeInfo?: CloseInfo;
}

/** Starts a peer process that announces `id` into `room` over a data channel to `accept`. */
function guest(id: string, room: string, accept: (pipe: Pipe) => void): Guest {
  const child = fork(
    fileURLToPath(new URL('./peer-process.test-helper.mjs', import.meta.url)),
    [id, room],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  children.push(child);
  const pc = kit.peerConnection();
  const entry: Guest = { child, pc };
  pc.addEventListener('datachannel', ({ channel }) => {
    if (channel.label !== DATA_CHANNEL_LABEL) return;
    attachDataChannel(
      channel,
      (pipe) => {
        entry.pipe = pipe;
        pipe.onClose((info) => (entry.closeInfo = info));
        accept(pipe);
      },
      {},
      { peerConnection: pc },
    );
  });
  pc.addEventListener('icecandidate', ({ candidate }) => {
    if (candidate && isLoopbackCandidate(candidate.candidate)) {
      const { sdpMid, sdpMLineIndex } = candidate;
      child.send({ candidate: { candidate: candidate.candidate, sdpMid, sdpMLineIndex } });
    }
  });
  let offered!: () => void;
  const remoteSet = new Promise<void>((resolve) => (offered = resolve));
  child.on(
    'message',
    (message: { offer?: RTCSessionDescriptionInit; candidate?: RTCIceCandidateInit }) => {
      if (message.candidate) void remoteSet.then(() => pc.addIceCandidate(message.candidate));
      if (message.offer) {
        void (async () => {
          await pc.setRemoteDescription({ type: 'offer', sdp: loopbackSdp(message.offer!.sdp!) });
          offered();
          await pc.setLocalDescription(await pc.createAnswer());
          child.send({ answer: { type: 'answer', sdp: loopbackSdp(pc.localDescription!.sdp) } });
        })();
      }
    },
  );
  return entry;
}

it('a peer killed with SIGKILL: its liveness probe fails once ICE disconnects, and its pipe closes when the connection fails', async () => {
  const hub = createHub({ graceMs: 300, livenessTimeoutMs: 500 });
  const local = memoryServer(hub.accept);
  const watcher = createSignaller(local.connector, { id: 'W' });
  try {
    const info = nextEvent(watcher, 'roominfo');
    watcher.announce({ room: 'r' });
    await info;
    const announced = (ids: string[]) =>
      waitUntil(
        () => ids.every((id) => watcher.peers.has(id)),
        `${ids.join(', ')} to announce`,
        10_000,
      );
    const taken = guest('TAKEN', 'r', (pipe) => hub.accept(pipe));
    const failed = guest('FAILED', 'r', (pipe) => hub.accept(pipe));
    await announced(['TAKEN', 'FAILED']);

    // alive: the open channel vouches for its holder, so the id cannot be claimed
    expect(await taken.pipe!.isAlive!(500)).toBe(true);
    const early = await rawClient(local.connector);
    early.say('/announce|TAKEN|{"id":"TAKEN","room":"r"}');
    expect(errorCodeOf(await early.next())).toBe('id-taken');
    early.pipe.close();

    const killedAt = Date.now();
    taken.child.kill('SIGKILL');
    failed.child.kill('SIGKILL');

    // no close reaches us; once ICE reports 'disconnected' (about 5 s) the probe fails and a
    // newcomer may take the id over
    await waitUntil(() => taken.pc.connectionState === 'disconnected', 'ICE to disconnect', 10_000);
    expect(taken.closeInfo).toBeUndefined();
    expect(await taken.pipe!.isAlive!(500)).toBe(false);
    const successor = await rawClient(local.connector);
    successor.say('/announce|TAKEN|{"id":"TAKEN","room":"r"}');
    expect(await successor.next()).toBe('/roominfo|{"memberCount":3}');
    expect(taken.closeInfo).toMatchObject({ local: true, code: 4009 });

    // the other one closes when the connection fails (about 15 s), then /leave after the grace
    const left = nextEvent(
      watcher,
      'message:leave',
      (data) => (data as { id: string }).id === 'FAILED',
      20_000,
    );
    await left;
    expect(Date.now() - killedAt).toBeGreaterThan(5000);
    expect(failed.pc.connectionState).toBe('failed');
    expect(failed.closeInfo).toMatchObject({ local: false });
    expect(failed.closeInfo!.error!.message).toMatch(/peer connection failed/);
    expect(hub.roomMembers('r')).toEqual(['W', 'TAKEN']);
    successor.pipe.close();
  } finally {
    watcher.leave();
    hub.close();
    await local.close();
  }
}, 28_000);
