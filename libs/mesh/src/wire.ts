/**
 * rtc-quickconnect's signalling messages (`/ready`, `/sdp`, `/candidate`, `/endofcandidates`,
 * `/negotiate`, `/requestoffer`, `/reconnect`), read defensively: every payload comes from the
 * network, and simple-peer destroys a connection handed a signal of an unknown shape.
 *
 * Towards peers that announce `mesh: 1`, payloads carry session ids: `sid` (the sender's
 * connection) and `to` (the receiver's, as the sender knows it), so that a signal for an
 * earlier connection of either side is recognised and dropped. Original peers ignore the keys.
 */

/** The announce attribute that marks a mesh peer. */
export const MESH_CAPABILITY = 'mesh';

/** A fresh session id: one per peer connection this side builds. */
export function sessionId(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes)).replace(/[+/]/g, (c) => (c === '+' ? '-' : '_'));
}

/** Session ids of a mesh payload. */
export interface Sessions {
  readonly sid?: string;
  readonly to?: string;
}

/** `/ready` from a mesh peer: its session, and ours as it knows it (`peer`). */
export interface ReadyPayload {
  readonly sid: string;
  readonly peer?: string;
}

/** `/negotiate`: quickconnect's `requestOfferer`, plus the mesh's requests of the initiator. */
export interface NegotiatePayload extends Sessions {
  readonly requestOfferer?: boolean;
  readonly iceRestart?: boolean;
  readonly transceivers?: readonly string[];
}

export interface SdpPayload extends Sessions {
  readonly type: 'offer' | 'answer';
  readonly sdp: string;
}

export interface CandidatePayload extends Sessions {
  readonly candidate: string;
  readonly sdpMid: string | null;
  readonly sdpMLineIndex: number | null;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const optionalString = (value: unknown) => value === undefined || typeof value === 'string';

function sessionsOk(value: Record<string, unknown>): boolean {
  return optionalString(value['sid']) && optionalString(value['to']);
}

export function readReady(value: unknown): ReadyPayload | undefined {
  if (!isObject(value) || typeof value['sid'] !== 'string' || !optionalString(value['peer'])) {
    return undefined;
  }
  return value as unknown as ReadyPayload;
}

export function readSdp(value: unknown): SdpPayload | undefined {
  if (!isObject(value) || !sessionsOk(value) || typeof value['sdp'] !== 'string') return undefined;
  return value['type'] === 'offer' || value['type'] === 'answer'
    ? (value as unknown as SdpPayload)
    : undefined;
}

export function readCandidate(value: unknown): CandidatePayload | undefined {
  if (!isObject(value) || !sessionsOk(value)) return undefined;
  const { candidate, sdpMid, sdpMLineIndex } = value;
  // an empty candidate is the end-of-candidates marker some stacks send: nothing to add
  if (typeof candidate !== 'string' || candidate === '') return undefined;
  if (sdpMid !== undefined && sdpMid !== null && typeof sdpMid !== 'string') return undefined;
  if (sdpMLineIndex !== undefined && sdpMLineIndex !== null && typeof sdpMLineIndex !== 'number') {
    return undefined;
  }
  return { ...value, candidate, sdpMid: sdpMid ?? null, sdpMLineIndex: sdpMLineIndex ?? null };
}

export function readNegotiate(value: unknown): NegotiatePayload | undefined {
  if (!isObject(value) || !sessionsOk(value)) return undefined;
  const transceivers = value['transceivers'];
  if (
    transceivers !== undefined &&
    !(
      Array.isArray(transceivers) &&
      transceivers.every((kind) => kind === 'audio' || kind === 'video')
    )
  ) {
    return undefined;
  }
  return value as NegotiatePayload;
}

/** The `candidate:…` text of a candidate line, with or without its `a=` prefix. */
function candidateText(line: string): string {
  return line.startsWith('a=') ? line.slice(2) : line;
}

/** Drops the SDP's candidate lines that `keep` refuses. */
export function filterSdp(sdp: string, keep: (candidate: string) => boolean): string {
  return sdp
    .split('\r\n')
    .filter((line) => !line.startsWith('a=candidate:') || keep(candidateText(line)))
    .join('\r\n');
}
