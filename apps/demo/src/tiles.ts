/** One tile per remote peer: its video, id, transport, ICE state and round-trip time. */
import type { MeshPeer } from '@switchyard/mesh';

interface Tile {
  readonly root: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly state: HTMLElement;
  readonly rtt: HTMLElement;
}

const tiles = new Map<string, Tile>();

function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = '',
): HTMLElementTagNameMap[K] {
  const created = document.createElement(tag);
  if (className) created.className = className;
  return created;
}

export function tileFor(container: HTMLElement, peer: MeshPeer): Tile {
  const existing = tiles.get(peer.id);
  if (existing) return existing;
  const root = element('figure', 'tile');
  root.dataset['peer'] = peer.id;
  const video = element('video');
  Object.assign(video, { autoplay: true, playsInline: true, muted: true });
  video.dataset['peerId'] = peer.id;
  const caption = element('figcaption');
  const name = element('strong');
  name.textContent = peer.id;
  const transport = element('span', 'badge');
  transport.textContent = String(peer.data['transport'] ?? (peer.original ? 'quickconnect' : '?'));
  const state = element('span', 'badge');
  const rtt = element('span', 'badge');
  caption.append(name, transport, state, rtt);
  root.append(video, caption);
  container.append(root);
  const tile = { root, video, state, rtt };
  tiles.set(peer.id, tile);
  showState(peer);
  return tile;
}

export function showState(peer: MeshPeer): void {
  const tile = tiles.get(peer.id);
  if (!tile) return;
  tile.state.textContent = peer.state;
  tile.state.className = `badge ${peer.state}`;
}

export function removeTile(peerId: string): void {
  tiles.get(peerId)?.root.remove();
  tiles.delete(peerId);
}

/** The selected candidate pair's round-trip time, in ms. */
export async function roundTripMs(
  connection: RTCPeerConnection | undefined,
): Promise<number | undefined> {
  if (!connection) return undefined;
  let rtt: number | undefined;
  (await connection.getStats()).forEach(
    (report: {
      type: string;
      nominated?: boolean;
      state?: string;
      currentRoundTripTime?: number;
    }) => {
      if (report.type === 'candidate-pair' && report.nominated && report.state === 'succeeded') {
        if (report.currentRoundTripTime !== undefined) rtt = report.currentRoundTripTime * 1000;
      }
    },
  );
  return rtt;
}

export async function refreshStats(peers: Iterable<MeshPeer>): Promise<void> {
  for (const peer of peers) {
    const tile = tiles.get(peer.id);
    if (!tile) continue;
    const rtt = await roundTripMs(peer.connection);
    tile.rtt.textContent = rtt === undefined ? 'rtt –' : `rtt ${rtt.toFixed(0)} ms`;
  }
}
