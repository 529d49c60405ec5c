// The original rtc-quickconnect 8.0.0 (from npm, unmodified) as an app uses it: a room, the fake
// camera, one data channel named like the mesh's ('data'). Bundled with the Node shims it needs.
import quickconnect from 'rtc-quickconnect';

const log = [];
const state = { log, channel: undefined, qc: undefined };

async function start(url, id, room) {
  const stream = await navigator.mediaDevices.getUserMedia({
    video: { width: 160, height: 120 },
    audio: false,
  });
  const qc = quickconnect(url, { room, id, iceServers: [], expectedLocalStreams: 1 });
  qc.createDataChannel('data');
  qc.on('call:started', (peerId) => log.push(`call:started ${peerId}`));
  qc.on('call:ended', (peerId) => log.push(`call:ended ${peerId}`));
  qc.on('channel:opened:data', (peerId, channel) => {
    state.channel = channel;
    channel.onmessage = (event) => log.push(`data ${peerId} ${String(event.data)}`);
    log.push(`channel ${peerId}`);
  });
  qc.on('stream:added', (peerId, remote) => {
    const video = document.createElement('video');
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.srcObject = remote;
    video.dataset.peerId = peerId;
    document.body.append(video);
    log.push(`stream ${peerId}`);
  });
  qc.addStream(stream);
  state.qc = qc;
}

globalThis.qcPage = {
  start,
  log: () => log,
  send: (text) => state.channel?.send(text),
  leave: () => state.qc?.close(),
  videoWidth: (peerId) =>
    document.querySelector(`video[data-peer-id="${peerId}"]`)?.videoWidth ?? 0,
};
