/**
 * The page of the mesh's Chromium tests: the packages as an app would import them (browser
 * conditions: simple-peer's standalone build, native WebSocket), loopback-only ICE.
 */
import { createSignaller } from '@switchyard/signaller';
import { webSocketConnector } from '@switchyard/transport-ws/client';
import { createMesh } from '../mesh.ts';
import type { Mesh } from '../types.ts';

const loopbackOnly = (candidate: string) =>
  /^candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(candidate);

interface PageState {
  mesh?: Mesh;
  log: string[];
}

const state: PageState = { log: [] };

async function start(url: string, id: string, room: string, video: boolean): Promise<void> {
  const streams = video
    ? [
        await navigator.mediaDevices.getUserMedia({
          video: { width: 160, height: 120 },
          audio: false,
        }),
      ]
    : [];
  const signaller = createSignaller(webSocketConnector(url), { id });
  const mesh = createMesh(signaller, { room, streams, filterCandidate: loopbackOnly });
  state.mesh = mesh;
  const log = (line: string) => state.log.push(line);
  mesh.on('peer:connected', (peer) => log(`connected ${peer.id}`));
  mesh.on('peer:data', (peer, data) => log(`data ${peer.id} ${String(data)}`));
  mesh.on('peer:left', (peer, reason) => log(`left ${peer.id} ${reason}`));
  mesh.on('peer:stream', (peer, stream) => {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = stream;
    video.dataset['peerId'] = peer.id;
    document.body.append(video);
    log(`stream ${peer.id}`);
  });
}

/** Frames decoded from `peerId`'s video so far (0 before any). */
async function framesDecoded(peerId: string): Promise<number> {
  const connection = state.mesh?.peers.get(peerId)?.connection;
  if (!connection) return 0;
  let frames = 0;
  (await connection.getStats()).forEach(
    (report: { type: string; kind?: string; framesDecoded?: number }) => {
      if (report.type === 'inbound-rtp' && report.kind === 'video')
        frames += report.framesDecoded ?? 0;
    },
  );
  return frames;
}

Object.assign(globalThis, {
  meshPage: {
    start,
    framesDecoded,
    log: () => state.log,
    broadcast: (text: string) => state.mesh?.broadcast(text),
  },
});
