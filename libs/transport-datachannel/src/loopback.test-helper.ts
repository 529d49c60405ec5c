/**
 * Loopback-only ICE for tests, browser-safe. wrtc gathers host candidates on every interface
 * (here also 192.0.2.2 and fd00::2), Chromium too once allowed to enumerate; tests pass on only
 * UDP host candidates on 127.0.0.1, in trickle events and in SDP alike.
 */

/** Whether an ICE candidate (or an SDP `a=candidate:` line) is a UDP host candidate on 127.0.0.1. */
export function isLoopbackCandidate(candidate: string): boolean {
  return /^(a=)?candidate:\S+ \d+ udp \d+ 127\.0\.0\.1 \d+ typ host/i.test(candidate);
}

/** Drops every SDP candidate line that is not a loopback UDP host candidate. */
export function loopbackSdp(sdp: string): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || isLoopbackCandidate(line))
    .join('\r\n');
}

/** Resolves once `pc` has gathered every candidate, so its description carries them all. */
export function gathered(pc: RTCPeerConnection): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (pc.iceGatheringState !== 'complete') return;
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    };
    pc.addEventListener('icegatheringstatechange', check);
  });
}
