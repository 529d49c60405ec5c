/**
 * A raw wrtc client of the data-channel transport as a pipe-contract `RawPeer`: a native-API
 * channel on its own peer connection, spoken to directly (no pipe; it only waits for the server
 * half to say it listens). Its packets pass through a UDP gate in this process, so it can stop
 * reading the way a stalled network does; it vanishes by closing its peer connection under the
 * channel, with no channel close of its own.
 */
import { createSocket, type Socket } from 'node:dgram';
import type { RawPeer } from '@switchyard/testing';
import { inbox, waitUntil } from '@switchyard/testing';
import { READY } from './channel-ops.ts';
import type { CandidatePath } from './webrtc.test-helper.ts';

/** A UDP relay between a client and a server peer connection (loopback host candidates only). */
export interface UdpGate extends CandidatePath, AsyncDisposable {
  /** Drops every packet the server sends from now on: the client reads nothing more. */
  block(): void;
}

const HOST_CANDIDATE = /^(candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 )(\d+)/i;

function bound(): Promise<Socket> {
  const socket = createSocket('udp4');
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve(socket));
  });
}

/**
 * Opens a gate. Negotiate through it (`kit.negotiate(client, server, gate)`): each side then
 * knows only the gate's port for the other, as behind a NAT, and every packet passes here.
 */
export async function udpGate(): Promise<UdpGate> {
  const [towardServer, towardClient] = [await bound(), await bound()];
  let clientPort: number | undefined;
  let serverPort: number | undefined;
  let blocked = false;
  // the client sends to `towardClient`, the server to `towardServer`; each forwards to the other
  towardClient.on('message', (packet, from) => {
    clientPort = from.port;
    if (serverPort !== undefined) towardServer.send(packet, serverPort, '127.0.0.1');
  });
  towardServer.on('message', (packet, from) => {
    serverPort = from.port;
    if (!blocked && clientPort !== undefined) towardClient.send(packet, clientPort, '127.0.0.1');
  });
  const through = (socket: Socket, learn: (port: number) => void) => (candidate: string) =>
    candidate.replace(HOST_CANDIDATE, (_, head: string, port: string) => {
      learn(Number(port));
      return `${head}${socket.address().port}`;
    });
  return {
    // the server sees the client at `towardServer`, the client sees the server at `towardClient`
    offerer: through(towardServer, (port) => (clientPort ??= port)),
    answerer: through(towardClient, (port) => (serverPort ??= port)),
    block: () => void (blocked = true),
    async [Symbol.asyncDispose]() {
      towardServer.close();
      towardClient.close();
    },
  };
}

/** The client end of one gated connection: its peer connection, its channel and its gate. */
export interface RawEnd {
  readonly pc: RTCPeerConnection;
  readonly channel: RTCDataChannel;
  readonly gate: UdpGate;
}

/** Wraps `end` once the server half said it listens (U+0006), which the inbox never shows. */
export async function rawDataChannel(end: RawEnd): Promise<RawPeer & RawEnd> {
  const { pc, channel, gate } = end;
  const received = inbox<string>('a data-channel message');
  let listening = false;
  channel.addEventListener('message', ({ data }) => {
    if (typeof data !== 'string') return;
    if (data === READY) listening = true;
    else received.push(data);
  });
  const closed = new Promise<number | undefined>((resolve) =>
    channel.addEventListener('close', () => resolve(undefined)),
  );
  try {
    await waitUntil(() => listening, 'the server half to say it listens');
  } catch (error) {
    pc.close();
    await gate[Symbol.asyncDispose]();
    throw error;
  }
  return {
    ...end,
    inbox: received,
    // the server half's probe is local state: the channel is open and ICE keeps answering
    answersProbes: true,
    say: (message) => channel.send(message),
    sayUnreadable: () => channel.send(new Uint8Array([1, 2, 3])),
    // the whole peer connection goes, not just the channel: no channel close is sent first
    kill: () => pc.close(),
    stopReading: () => gate.block(),
    // data channels carry no close code
    closed: () => closed,
    async [Symbol.asyncDispose]() {
      pc.close();
      await gate[Symbol.asyncDispose]();
    },
  };
}
