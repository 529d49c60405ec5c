/** simple-peer's constructor options for a mesh peer. */
import type { PeerInit } from './types.ts';

export function simplePeerOptions(init: PeerInit) {
  return {
    initiator: init.initiator,
    config: init.config,
    channelName: init.channelName,
    streams: [...init.streams],
    sdpTransform: init.sdpTransform,
    trickle: true,
    // text stays text and bytes stay bytes, so the default channel interoperates with
    // rtc-quickconnect apps that read `event.data` as sent
    objectMode: true,
    ...(init.wrtc ? { wrtc: init.wrtc } : {}),
  };
}
