/**
 * `@switchyard/transport-datachannel`: signalling over WebRTC data channels that peers already
 * have. `./client` wraps a channel (`RTCDataChannel`, `@roamhq/wrtc`, `simple-peer`) as a pipe;
 * `./server` serves channels with a hub inside this peer, or relays them to an upstream hub
 * through this peer's own connector. Both halves run in browsers and in Node.
 *
 * @example
 * ```ts
 * import { createHub } from '@switchyard/hub';
 * import { createSignaller } from '@switchyard/signaller';
 * import { attachDataChannel } from '@switchyard/transport-datachannel/server';
 * import { dataChannelConnector } from '@switchyard/transport-datachannel/client';
 *
 * // the peer that hosts the hub, for each Switchyard channel a peer opens to it
 * const hub = createHub();
 * hostPc.addEventListener('datachannel', ({ channel }) => {
 *   if (channel.label === 'switchyard') attachDataChannel(channel, hub.accept);
 * });
 *
 * // a guest peer, already connected to the host with `guestPc`
 * const signaller = createSignaller(
 *   dataChannelConnector(() => guestPc.createDataChannel('switchyard'), { peerConnection: guestPc }),
 * );
 * signaller.announce({ room: 'demo' });
 * ```
 */
export {
  DATA_CHANNEL_LABEL,
  type ChannelLike,
  type ChannelEvent,
  type ChannelEventListener,
  type DataChannelLike,
  type EmitterListener,
  type PeerConnectionLike,
  type SimplePeerLike,
} from './channel.ts';
export {
  dataChannelPipe,
  dataChannelConnector,
  type DataChannelPipeOptions,
  type DataChannelConnectorOptions,
  type OpenDataChannel,
} from './client.ts';
export {
  attachDataChannel,
  dataChannelServer,
  relayDataChannel,
  type DataChannelServer,
  type DataChannelContext,
  type DataChannelServerHandle,
  type DataChannelServerOptions,
  type DataChannelRelayOptions,
} from './server.ts';
