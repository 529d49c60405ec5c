/**
 * The field codec of the rtc-signaller wire format (docs/protocol.md §1).
 *
 * There is no escaping on the wire: receivers split on every `|`. So the encoder writes `|`
 * inside JSON text as `\u007c` (valid JSON wherever a `|` can occur, which is only inside a
 * string) and refuses raw string fields that contain a `|`.
 */

/** The field separator. */
export const SEPARATOR = '|';

/** Thrown by {@link encodeField} for a value that cannot travel as one field. */
export class FieldEncodingError extends Error {
  override readonly name = 'FieldEncodingError';
}

/** JSON.stringify that never produces a raw `|`. Returns `undefined` for unserialisable input. */
export function stringifyJson(value: unknown): string | undefined {
  const json = JSON.stringify(value) as string | undefined;
  if (json === undefined) return undefined;
  return json.includes(SEPARATOR) ? json.replaceAll(SEPARATOR, '\\u007c') : json;
}

/**
 * Encodes one value as a field: objects, arrays and `null` as JSON, strings as-is, numbers,
 * booleans and bigints with `String`, `undefined` and functions as an empty field.
 * @throws FieldEncodingError for a string containing `|`.
 */
export function encodeField(value: unknown): string {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return '';
  if (typeof value === 'string' || value instanceof String) {
    const text = String(value);
    if (text.includes(SEPARATOR)) {
      throw new FieldEncodingError(
        `a string field cannot contain "|" (got ${JSON.stringify(text.slice(0, 40))}); send it inside an object instead`,
      );
    }
    return text;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    return String(value);
  }
  return stringifyJson(value) ?? '';
}

/** Encodes a whole message from its fields, e.g. `encodeMessage(['/chat', 'A', {text: 'hi'}])`. */
export function encodeMessage(fields: readonly unknown[]): string {
  return fields.map(encodeField).join(SEPARATOR);
}

const NUMERIC = /^-?\d+\.?\d*$/;

/**
 * Decodes one field the way rtc-signaller does (`cog/jsonparse`): `true`/`false`/`null`, JSON
 * when wrapped in `{}`, `[]` or `""` (kept as text when it does not parse), numbers when the
 * text matches `^-?\d+\.?\d*$`, otherwise the text itself.
 */
export function decodeField(text: string): unknown {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  if (text.length >= 2) {
    const first = text[0];
    const last = text[text.length - 1];
    if (
      (first === '{' && last === '}') ||
      (first === '[' && last === ']') ||
      (first === '"' && last === '"')
    ) {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        return text;
      }
    }
  }
  return NUMERIC.test(text) ? parseFloat(text) : text;
}

/** Splits a message into raw fields. Every `|` separates: there is no escaping. */
export function splitFields(message: string): string[] {
  return message.split(SEPARATOR);
}
