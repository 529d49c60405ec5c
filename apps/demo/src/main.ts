/**
 * The Switchyard demo: a mesh call in a room, on the transport of your choice.
 * URL: /demo/?room=R&transport=ws|socket.io|sse|mqtt&autostart=1 (&loopback=1: 127.0.0.1 ICE
 * only, for tests). The room may also come from the hash, as rtc-quickconnect apps do.
 */
import { createMesh, fileTransfer, type Mesh, type MeshPeer } from '@switchyard/mesh';
import { createSignaller, type Signaller } from '@switchyard/signaller';
import { connectorFor, isTransport, type DroppableConnector, type Transport } from './connect.ts';
import { refreshStats, removeTile, roundTripMs, showState, tileFor } from './tiles.ts';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
const roomInput = $<HTMLInputElement>('room');
const transportSelect = $<HTMLSelectElement>('transport');
const status = $('status');
const tilesEl = $('tiles');
const chat = $('chat');
const files = $('files');
const message = $<HTMLInputElement>('message');
const fileInput = $<HTMLInputElement>('file');
const buttons = {
  join: $<HTMLButtonElement>('join-button'),
  share: $<HTMLButtonElement>('share'),
  drop: $<HTMLButtonElement>('drop'),
  leave: $<HTMLButtonElement>('leave'),
  send: document.querySelector<HTMLButtonElement>('#say button')!,
};

roomInput.value =
  params.get('room') ??
  (location.hash.slice(1) || `room-${Math.random().toString(36).slice(2, 7)}`);
const requested = params.get('transport');
if (isTransport(requested)) transportSelect.value = requested;
const loopback = params.get('loopback') === '1';

interface Call {
  readonly signaller: Signaller;
  readonly mesh: Mesh;
  readonly link: DroppableConnector;
  readonly camera: MediaStream;
  screen?: MediaStreamTrack;
}
let call: Call | undefined;

function say(line: string, from?: string): void {
  const item = document.createElement('li');
  if (from) {
    const who = document.createElement('b');
    who.textContent = `${from}: `;
    item.append(who);
  }
  item.append(line);
  chat.append(item);
  chat.scrollTop = chat.scrollHeight;
}

function showStatus(): void {
  if (!call) return void (status.textContent = 'not joined');
  const peers = [...call.mesh.peers.values()];
  const up = peers.filter((peer) => peer.state === 'connected').length;
  status.textContent = `${call.signaller.id} · signalling ${call.signaller.readyState} over ${transportSelect.value} · ${up}/${peers.length} peers connected`;
}

async function camera(): Promise<MediaStream> {
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: { width: 640, height: 480 },
      audio: true,
    });
  } catch (error) {
    say(`no camera or microphone (${String(error)}): joining with data only`);
    return new MediaStream();
  }
}

async function join(): Promise<void> {
  if (call) return;
  const room = roomInput.value.trim();
  const transport = transportSelect.value as Transport;
  history.replaceState(
    null,
    '',
    `?room=${encodeURIComponent(room)}&transport=${transport}${loopback ? '&loopback=1' : ''}`,
  );
  const stream = await camera();
  $<HTMLVideoElement>('preview').srcObject = stream;
  const link = connectorFor(transport, location.origin);
  const signaller = createSignaller(link.connector, {
    reconnectDelay: (n) => Math.min(250 * 2 ** n, 2000),
  });
  $('me').textContent = `${signaller.id} · ${transport}`;
  const mesh = createMesh(signaller, {
    room,
    profile: { transport },
    streams: [stream],
    ...(loopback
      ? { filterCandidate: (c: string) => / udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(c) }
      : {}),
  });
  call = { signaller, mesh, link, camera: stream };
  const chatChannel = mesh.channel('chat');
  const transfer = fileTransfer(mesh);
  mesh.on('peer:state', (peer) => (showState(peer), showStatus()));
  mesh.on('peer:connected', (peer) => {
    tileFor(tilesEl, peer);
    say(`${peer.id} connected`);
  });
  mesh.on('peer:stream', (peer, remote) => {
    const tile = tileFor(tilesEl, peer);
    tile.video.srcObject = remote;
    tile.video.muted = false;
  });
  mesh.on('peer:left', (peer, reason) => {
    removeTile(peer.id);
    say(`${peer.id} left (${reason})`);
    showStatus();
  });
  chatChannel.on('message', (peer, data) => say(String(data), peer.id));
  transfer.on('progress', (peer, { name, size, done }) =>
    progressFor(`${peer.id}:${name}`, `from ${peer.id}: ${name}`, done, size),
  );
  transfer.on('file', (peer, file) => {
    const url = URL.createObjectURL(
      new Blob([file.bytes as Uint8Array<ArrayBuffer>], { type: file.type }),
    );
    const item = progressFor(
      `${peer.id}:${file.name}`,
      `from ${peer.id}: ${file.name}`,
      file.bytes.length,
      file.bytes.length,
    );
    const link = Object.assign(document.createElement('a'), {
      href: url,
      download: file.name,
      textContent: ' save',
    });
    item.append(link);
  });
  let lastError = '';
  signaller.on('error', (error) => {
    // a refusing or unreachable transport retries with backoff: say so once, not every attempt
    if (error.message === lastError) return;
    lastError = error.message;
    say(`signalling: ${error.message}`);
  });
  signaller.on('connected', () => {
    lastError = '';
    showStatus();
  });
  signaller.on('disconnected', showStatus);
  for (const button of [buttons.share, buttons.drop, buttons.leave, buttons.send])
    button.disabled = false;
  message.disabled = fileInput.disabled = false;
  buttons.join.disabled = roomInput.disabled = transportSelect.disabled = true;
  showStatus();

  $<HTMLFormElement>('say').onsubmit = (event) => {
    event.preventDefault();
    if (!message.value) return;
    chatChannel.send(message.value);
    say(message.value, 'you');
    message.value = '';
  };
  fileInput.onchange = async () => {
    const file = fileInput.files?.[0];
    if (!file) return;
    const bytes = new Uint8Array(await file.arrayBuffer());
    for (const peer of mesh.peers.values()) {
      await transfer.send(peer.id, { name: file.name, type: file.type, bytes }, ({ done, size }) =>
        progressFor(`to:${peer.id}:${file.name}`, `to ${peer.id}: ${file.name}`, done, size),
      );
    }
    fileInput.value = '';
  };
}

const progressBars = new Map<string, HTMLLIElement>();
function progressFor(key: string, label: string, done: number, size: number): HTMLLIElement {
  let item = progressBars.get(key);
  if (!item) {
    item = document.createElement('li');
    item.append(label, document.createElement('progress'));
    files.append(item);
    progressBars.set(key, item);
  }
  const bar = item.querySelector('progress')!;
  bar.max = size || 1;
  bar.value = done;
  return item;
}

async function toggleShare(): Promise<void> {
  if (!call) return;
  const cameraTrack = call.camera.getVideoTracks()[0];
  if (!cameraTrack) return say('screen sharing needs a camera track to replace');
  if (call.screen) {
    call.mesh.replaceTrack(call.screen, cameraTrack);
    call.screen.stop();
    call.screen = undefined;
    buttons.share.textContent = 'Share screen';
    return;
  }
  const screen = (
    await navigator.mediaDevices.getDisplayMedia({ video: true })
  ).getVideoTracks()[0]!;
  call.mesh.replaceTrack(cameraTrack, screen);
  call.screen = screen;
  screen.onended = () => void (call?.screen === screen && toggleShare());
  buttons.share.textContent = 'Stop sharing';
}

function leave(): void {
  if (!call) return;
  call.mesh.close();
  call.signaller.leave();
  for (const track of call.camera.getTracks()) track.stop();
  for (const peer of call.mesh.peers.keys()) removeTile(peer);
  tilesEl.replaceChildren();
  call = undefined;
  for (const button of [buttons.share, buttons.drop, buttons.leave, buttons.send])
    button.disabled = true;
  message.disabled = fileInput.disabled = true;
  buttons.join.disabled = roomInput.disabled = transportSelect.disabled = false;
  showStatus();
}

$<HTMLFormElement>('join').onsubmit = (event) => {
  event.preventDefault();
  void join();
};
$('copy-link').onclick = () => void navigator.clipboard?.writeText(location.href);
buttons.share.onclick = () =>
  void toggleShare().catch((error: unknown) => say(`screen share failed: ${String(error)}`));
buttons.drop.onclick = () => {
  call?.link.drop(5000);
  say('signalling dropped for 5 s: the calls stay up');
};
buttons.leave.onclick = leave;
setInterval(() => {
  if (call) void refreshStats(call.mesh.peers.values());
  showStatus();
}, 1000);

/** For tests and the curious: `window.demo`. */
Object.assign(globalThis, {
  demo: {
    peers: () =>
      [...(call?.mesh.peers.values() ?? [])].map((peer: MeshPeer) => ({
        id: peer.id,
        state: peer.state,
        transport: peer.data['transport'],
      })),
    connection: (id: string) => call?.mesh.peers.get(id)?.connection,
    rtt: (id: string) => roundTripMs(call?.mesh.peers.get(id)?.connection),
    restartIce: (id: string) => call?.mesh.restartIce(id),
    dropSignalling: (ms = 5000) => call?.link.drop(ms),
    signalling: () => call?.signaller.readyState,
    stats: () => call?.mesh.stats(),
  },
});

if (params.get('autostart') === '1') void join();
