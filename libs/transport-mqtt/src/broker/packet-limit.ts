/**
 * A packet-size limit for the embedded broker, which has none: aedes buffers a packet whole
 * before it looks at it, so one CONNECT or PUBLISH announcing 200 MiB (before or after login)
 * would be held in memory. This watches the bytes aedes reads, follows the MQTT framing (a type
 * byte, a remaining length of 1–4 varint bytes, the body), and reports the first packet larger
 * than the limit from its header alone. Bodies are skipped, not scanned: O(1) per packet.
 */

/** Feeds the watcher one chunk of the stream, in order. */
export type PacketWatcher = (chunk: Uint8Array) => void;

/** Why a stream was refused. */
export interface PacketRefusal {
  readonly reason: 'too-large' | 'malformed';
  /** The declared remaining length (too-large). */
  readonly length?: number;
}

/** Watches one MQTT stream; calls `refuse` once for the first packet over `limitBytes`. */
export function watchPacketSizes(
  limitBytes: number,
  refuse: (refusal: PacketRefusal) => void,
): PacketWatcher {
  let phase: 'type' | 'length' | 'body' | 'refused' = 'type';
  let length = 0;
  let multiplier = 1;
  let lengthBytes = 0;
  let remaining = 0;
  const stop = (refusal: PacketRefusal) => {
    phase = 'refused';
    refuse(refusal);
  };
  return (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      if (phase === 'refused') return;
      if (phase === 'type') {
        i += 1;
        phase = 'length';
        length = 0;
        multiplier = 1;
        lengthBytes = 0;
      } else if (phase === 'length') {
        const byte = chunk[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        lengthBytes += 1;
        if (byte & 0x80) {
          if (lengthBytes === 4) return stop({ reason: 'malformed' });
          continue;
        }
        if (length > limitBytes) return stop({ reason: 'too-large', length });
        remaining = length;
        phase = remaining > 0 ? 'body' : 'type';
      } else {
        const skip = Math.min(remaining, chunk.length - i);
        i += skip;
        remaining -= skip;
        if (remaining === 0) phase = 'type';
      }
    }
  };
}
