/** Protocol limits shared by clients and servers. */
export const LIMITS = {
  /** Largest message a hub accepts, in UTF-8 bytes. @default 65536 */
  maxFrameBytes: 64 * 1024,
  /** Longest id, in characters. */
  maxIdLength: 256,
  /** Longest room name, in characters. */
  maxRoomLength: 256,
  /**
   * Longest sender field, in characters: an id in either dialect with room to spare. A json
   * sender field is parsed whenever it is not the exact stamp, so its size is bounded apart.
   */
  maxSenderLength: 4096,
  /** Longest credential token, in characters; a longer one is refused unread. */
  maxTokenLength: 4096,
} as const;

/** UTF-8 byte length of a string without allocating (lone surrogates count as 3, like TextEncoder). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Whether `text` fits in `maxBytes` UTF-8 bytes; counts only when the length alone cannot tell. */
export function fitsInBytes(text: string, maxBytes: number): boolean {
  if (text.length * 3 <= maxBytes) return true;
  if (text.length > maxBytes) return false;
  return utf8ByteLength(text) <= maxBytes;
}
