/**
 * Sender metadata in its two dialects (docs/protocol.md §2): `bare` (`/chat|A|…`, rtc-signaller 6.x)
 * and `json` (`/chat|{"id":"A"}|…`, the overview document and rtc-signaller ≤ 5).
 */
import { stringifyJson } from './codec.ts';
import { LIMITS } from './limits.ts';

/** How a peer writes the sender field. Fixed per connection by its first `/announce`. */
export type Dialect = 'bare' | 'json';

/** A decoded sender field. */
export interface SenderInfo {
  readonly id: string;
  readonly dialect: Dialect;
  /** The other keys of a `json` sender (e.g. a per-message `token`); servers strip them. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/** Ids are compared as strings; a JSON number id means its decimal string. */
export function idToString(id: unknown): string | undefined {
  if (typeof id === 'string') return id;
  if (typeof id === 'number' && Number.isFinite(id)) return String(id);
  return undefined;
}

// a lone surrogate would reach bare-dialect recipients as U+FFFD, so two ids could look alike
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u001f\u007f|]|[\ud800-\udfff]/u;

/**
 * Whether an id is valid on the wire: 1..256 characters of well-formed UTF-16, no `|`, no control
 * characters.
 */
export function isValidId(id: string): boolean {
  return id.length >= 1 && id.length <= LIMITS.maxIdLength && !INVALID.test(id);
}

/**
 * Reads a sender field in either dialect. A field that decodes to an object with an `id` is
 * `json`; anything else is a `bare` id. Never throws.
 */
export function readSender(field: string): SenderInfo {
  if (field.length >= 2 && field.startsWith('{') && field.endsWith('}')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(field);
    } catch {
      return { id: field, dialect: 'bare' };
    }
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
      const { id, ...extra } = parsed as Record<string, unknown>;
      const asString = idToString(id);
      if (asString !== undefined) {
        return Object.keys(extra).length > 0
          ? { id: asString, dialect: 'json', extra }
          : { id: asString, dialect: 'json' };
      }
    }
  }
  return { id: field, dialect: 'bare' };
}

/** The sender field for `id` in a dialect: `A` or `{"id":"A"}`. */
export function senderField(id: string, dialect: Dialect): string {
  return dialect === 'bare' ? id : (stringifyJson({ id }) as string);
}
