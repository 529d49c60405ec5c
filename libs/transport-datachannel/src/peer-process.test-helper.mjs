/* global process */
/**
 * A peer in its own process, so a test can kill it with SIGKILL: no SCTP abort, no close, the
 * far side only notices through ICE. It opens a `switchyard` channel to the test process
 * (signalling over IPC, loopback candidates only), waits for the server half's readiness message
 * and announces `process.argv[2]` into `process.argv[3]`.
 */
import wrtc from '@roamhq/wrtc';

const [id, room] = process.argv.slice(2);
const loopback = (line) => /candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(line);
const pc = new wrtc.RTCPeerConnection({ iceServers: [] });
const channel = pc.createDataChannel('switchyard');

// never outlive the test process
process.on('disconnect', () => process.exit(0));

pc.addEventListener('icecandidate', ({ candidate }) => {
  if (candidate && loopback(candidate.candidate)) {
    const { sdpMid, sdpMLineIndex } = candidate;
    process.send({ candidate: { candidate: candidate.candidate, sdpMid, sdpMLineIndex } });
  }
});
channel.addEventListener('message', ({ data }) => {
  if (data === '\u0006') channel.send(`/announce|${id}|${JSON.stringify({ id, room })}`);
  else if (String(data).startsWith('/roominfo|')) process.send({ announced: true });
});
let answered;
const remoteSet = new Promise((resolve) => (answered = resolve));
process.on('message', (message) => {
  if (message.answer) void pc.setRemoteDescription(message.answer).then(answered);
  if (message.candidate) {
    void remoteSet.then(() => pc.addIceCandidate(message.candidate)).catch(() => undefined);
  }
});

await pc.setLocalDescription(await pc.createOffer());
process.send({ offer: { type: 'offer', sdp: pc.localDescription.sdp } });
