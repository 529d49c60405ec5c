/** The data-channel transport mounted for the conformance and pipe-contract suites. */
import type { TransportSetup } from '@switchyard/testing';
import { DATA_CHANNEL_LABEL } from './channel.ts';
import { dataChannelConnector } from './client.ts';
import { rawDataChannel, udpGate } from './raw-channel.test-helper.ts';
import { dataChannelServer, type DataChannelServerOptions } from './server.ts';
import { createWebRtcKit, type CandidatePath } from './webrtc.test-helper.ts';

/**
 * Serves `dataChannelServer(accept, options)`. Each connection is a fresh wrtc pair: the client
 * end a native-API `RTCDataChannel`, the server end a simple-peer instance (objectMode), so both
 * channel shapes carry every case. Raw peers reach it through a UDP gate (see `udpGate`), so they
 * can stop reading; `mute` opens channels on connections nobody serves.
 */
export function dataChannelSetup(options: DataChannelServerOptions = {}): TransportSetup {
  return async (accept) => {
    const kit = createWebRtcKit();
    const server = dataChannelServer(accept, options);
    const connect = (path?: CandidatePath) => {
      const pc = kit.peerConnection();
      const host = kit.simplePeer({ objectMode: true });
      server.serve(host);
      const channel = pc.createDataChannel(DATA_CHANNEL_LABEL);
      kit.negotiate(pc, host, path);
      return { pc, channel };
    };
    return {
      // a negotiation that stalls (seen once in ~10 CI runs: wrtc on loopback, first connection
      // of the file, cause unknown) is given up after 2 s and retried by the signaller, as an
      // application's would, instead of outliving the case's 5 s deadline at the 10 s default
      connector: dataChannelConnector(() => connect().channel, { openTimeoutMs: 2000 }),
      async raw() {
        const gate = await udpGate();
        return rawDataChannel({ ...connect(gate), gate });
      },
      async mute(openTimeoutMs) {
        const unserved = createWebRtcKit();
        const connector = dataChannelConnector(
          () => {
            const pc = unserved.peerConnection();
            const channel = pc.createDataChannel(DATA_CHANNEL_LABEL);
            unserved.negotiate(pc, unserved.peerConnection());
            return channel;
          },
          { openTimeoutMs },
        );
        return Object.assign(connector, { [Symbol.asyncDispose]: async () => unserved.close() });
      },
      async [Symbol.asyncDispose]() {
        await server.close();
        kit.close();
      },
    };
  };
}
