/**
 * Frames between nodes (docs/cluster.md, "Bus frames"): text, a one-letter kind and `|`-separated
 * fields, the last field raw (a client frame, verbatim), so routing reads only the head.
 *
 * - `J|link|room|context` an edge links a connection to the room's home (context: JSON)
 * - `M|link|frame` a client frame, edge → home
 * - `C|link|code` the client's transport closed (`code` may be empty)
 * - `D|link|frame` deliver to the client, home → edge
 * - `X|link|code|reason` the home closes the link (`reroute`: it is not the room's home)
 * - `Q|req|kind|arg` a request, `R|req|answer` its answer
 */

export type BusFrame =
  | { readonly kind: 'J'; readonly link: string; readonly room: string; readonly context: string }
  | { readonly kind: 'M'; readonly link: string; readonly frame: string }
  | { readonly kind: 'D'; readonly link: string; readonly frame: string }
  | { readonly kind: 'C'; readonly link: string; readonly code?: number }
  | { readonly kind: 'X'; readonly link: string; readonly code: number; readonly reason: string }
  | { readonly kind: 'Q'; readonly req: string; readonly request: string; readonly arg: string }
  | { readonly kind: 'R'; readonly req: string; readonly answer: string };

/** Splits `text` at its first `count` separators: `count + 1` fields, the last one raw. */
function split(text: string, count: number): string[] | undefined {
  const fields: string[] = [];
  let from = 0;
  for (let n = 0; n < count; n++) {
    const at = text.indexOf('|', from);
    if (at === -1) return undefined;
    fields.push(text.slice(from, at));
    from = at + 1;
  }
  fields.push(text.slice(from));
  return fields;
}

/** Encodes one frame. Links, rooms and request ids never contain `|` (see {@link safeField}). */
export function encodeBus(frame: BusFrame): string {
  switch (frame.kind) {
    case 'J':
      return `J|${frame.link}|${safeField(frame.room)}|${frame.context}`;
    case 'M':
    case 'D':
      return `${frame.kind}|${frame.link}|${frame.frame}`;
    case 'C':
      return `C|${frame.link}|${frame.code ?? ''}`;
    case 'X':
      return `X|${frame.link}|${frame.code}|${frame.reason}`;
    case 'Q':
      return `Q|${frame.req}|${frame.request}|${frame.arg}`;
    case 'R':
      return `R|${frame.req}|${frame.answer}`;
  }
}

/** Decodes one frame; undefined for anything else (a newer node's kind, garbage). */
export function decodeBus(text: string): BusFrame | undefined {
  const kind = text.charAt(0);
  if (text.charAt(1) !== '|') return undefined;
  const body = text.slice(2);
  switch (kind) {
    case 'J': {
      const f = split(body, 2);
      return f && { kind, link: f[0]!, room: unsafeField(f[1]!), context: f[2]! };
    }
    case 'M':
    case 'D': {
      const f = split(body, 1);
      return f && { kind: kind as 'M', link: f[0]!, frame: f[1]! };
    }
    case 'C': {
      const f = split(body, 1);
      if (!f) return undefined;
      return f[1] === '' ? { kind, link: f[0]! } : { kind, link: f[0]!, code: Number(f[1]) };
    }
    case 'X': {
      const f = split(body, 2);
      return f && { kind, link: f[0]!, code: Number(f[1]), reason: f[2]! };
    }
    case 'Q': {
      const f = split(body, 2);
      return f && { kind, req: f[0]!, request: f[1]!, arg: f[2]! };
    }
    case 'R': {
      const f = split(body, 1);
      return f && { kind, req: f[0]!, answer: f[1]! };
    }
    default:
      return undefined;
  }
}

/** A room name as a field: `%` and `|` escaped, so any name fits between separators. */
export function safeField(text: string): string {
  return text.replace(/%/g, '%25').replace(/\|/g, '%7C');
}

function unsafeField(text: string): string {
  return text.replace(/%7C/g, '|').replace(/%25/g, '%');
}
