/**
 * `@switchyard/mesh`: connect everyone in a room. One simple-peer connection per other member,
 * set up over the Switchyard signaller with rtc-quickconnect's messages, so an original
 * rtc-quickconnect 8 app and a mesh app share a call. Browsers and Node (with `wrtc`).
 *
 * @example
 * ```ts
 * import { createSignaller } from '@switchyard/signaller';
 * import { webSocketConnector } from '@switchyard/transport-ws/client';
 * import { createMesh } from '@switchyard/mesh';
 *
 * const camera = await navigator.mediaDevices.getUserMedia({ video: true, audio: true });
 * const mesh = createMesh(createSignaller(webSocketConnector(location.origin)), {
 *   room: 'demo',
 *   streams: [camera],
 * });
 * mesh.on('peer:stream', (peer, stream) => show(peer.id, stream));
 * mesh.on('peer:data', (peer, data) => console.log(peer.id, 'says', data));
 * mesh.on('peer:connected', (peer) => peer.send('hello'));
 * mesh.on('peer:left', (peer) => hide(peer.id));
 * ```
 */
export { createMesh } from './mesh.ts';
export { fileTransfer } from './files.ts';
export type * from './files.ts';
export type * from './types.ts';
export { MESH_CAPABILITY } from './wire.ts';
