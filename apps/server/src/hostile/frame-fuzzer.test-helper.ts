/**
 * A seeded frame generator for hostile-input tests: valid frames from a small corpus, then
 * mutated (fields cut, swapped, duplicated, `|` injected, huge, unicode, case, spoofed ids), plus
 * random text and binary frames. The same seed gives the same frames.
 */

/** One frame to send: text, or bytes for a binary frame. */
export interface FuzzFrame {
  readonly data: string | Buffer;
  readonly binary: boolean;
}

/** xorshift32: small, fast and reproducible. */
class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }
  next(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 0x1_0000_0000;
  }
  int(below: number): number {
    return Math.floor(this.next() * below);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

const UNICODE = [
  '\u0000',
  '\u0001',
  '\u001f',
  '\u007f',
  'é',
  '€',
  '𝄞',
  '😀',
  '\ud800',
  '\udfff',
  '\u2028',
  '\ufeff',
  '|',
  '\\',
  '"',
  '{',
  '}',
];
const COMMANDS = [
  '/announce',
  '/to',
  '/leave',
  '/chat',
  '/sdp',
  '/candidate',
  '/error',
  '/roominfo',
  '/ANNOUNCE',
  '/To',
  '/',
  '//',
];

/** Options: the room under attack and ids the fuzzer tries to impersonate. */
export interface FuzzOptions {
  readonly room: string;
  readonly honestIds: readonly string[];
}

/** Produces an endless, reproducible stream of hostile frames. */
export class FrameFuzzer {
  private readonly random: Random;
  constructor(
    seed: number,
    private readonly options: FuzzOptions,
  ) {
    this.random = new Random(seed);
  }

  private id(): string {
    const r = this.random;
    if (r.chance(0.1)) return r.pick(this.options.honestIds);
    if (r.chance(0.05)) return String(r.int(1000));
    return `f${r.int(64)}`;
  }

  private valid(): string {
    const r = this.random;
    const me = this.id();
    const room = r.chance(0.7) ? this.options.room : `room-${r.int(8)}`;
    switch (r.int(6)) {
      case 0:
        return `/announce|${me}|{"id":"${me}","room":"${room}","name":"fuzz"}`;
      case 1:
        return `/announce|{"id":"${me}"}|{"id":"${me}","room":"${room}","token":"t${r.int(9)}"}`;
      case 2:
        return `/to|${this.id()}|/sdp|${me}|{"type":"offer","sdp":"v=0\\r\\n"}`;
      case 3:
        return `/leave|${me}|{"id":"${me}"}`;
      case 4:
        return `/chat|${me}|{"text":"hello"}|${r.int(100)}`;
      default:
        return `${r.pick(COMMANDS)}|${me}|${JSON.stringify({ n: r.int(1e6), s: 'x'.repeat(r.int(40)) })}`;
    }
  }

  private mutate(frame: string): string {
    const r = this.random;
    const fields = frame.split('|');
    switch (r.int(11)) {
      case 0: // cut a field
        fields.splice(r.int(fields.length), 1);
        return fields.join('|');
      case 1: {
        // swap two fields
        const a = r.int(fields.length);
        const b = r.int(fields.length);
        [fields[a], fields[b]] = [fields[b]!, fields[a]!];
        return fields.join('|');
      }
      case 2: // duplicate a field
        fields.splice(r.int(fields.length), 0, r.pick(fields));
        return fields.join('|');
      case 3: {
        // inject a | anywhere
        const at = r.int(frame.length + 1);
        return frame.slice(0, at) + '|' + frame.slice(at);
      }
      case 4: // truncate
        return frame.slice(0, r.int(frame.length + 1));
      case 5: {
        // unicode, control characters, lone surrogates
        const at = r.int(frame.length + 1);
        let noise = '';
        for (let i = r.int(6) + 1; i > 0; i--) noise += r.pick(UNICODE);
        return frame.slice(0, at) + noise + frame.slice(at);
      }
      case 6: // replace the payload with another JSON shape
        return `${fields.slice(0, 2).join('|')}|${r.pick(['null', '[]', '1', '"x"', '{}', '{"id":null}', '{"id":{"a":1}}', 'true', '{"room":1}'])}`;
      case 7: // command case games
        fields[0] = fields[0]!.toUpperCase();
        return fields.join('|');
      case 8: // huge (over the 64 KiB hub limit; rarely over the 1 MiB transport limit)
        return r.chance(0.0005)
          ? frame + 'x'.repeat(1_100_000)
          : r.chance(0.02)
            ? frame + 'y'.repeat(70_000)
            : frame;
      case 9: // no leading slash
        return frame.slice(1);
      default: // a long id
        return frame.replace(/\|f\d+/, `|${'i'.repeat(r.int(400))}`);
    }
  }

  /** The next frame. */
  next(): FuzzFrame {
    const r = this.random;
    if (r.chance(0.01)) {
      const bytes = Buffer.alloc(r.int(64));
      for (let i = 0; i < bytes.length; i++) bytes[i] = r.int(256);
      return { data: bytes, binary: true };
    }
    if (r.chance(0.03)) {
      let text = '';
      for (let i = r.int(80); i > 0; i--) text += String.fromCharCode(r.int(0x3000));
      return { data: text, binary: false };
    }
    let frame = this.valid();
    for (let i = r.int(3); i > 0; i--) frame = this.mutate(frame);
    return { data: frame, binary: false };
  }
}
