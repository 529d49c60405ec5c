/**
 * A frame is one message on its way to recipients: its text, its parsed header and its sender's
 * stamp. It is data, not a closure, so a frame can wait in a grace queue or cross a process
 * boundary; it is encoded at most once per dialect however many members receive it.
 */
import {
  leaveMessage,
  parseHeader,
  replaceSender,
  senderField,
  type Dialect,
  type Header,
  type LeaveReason,
} from '@switchyard/protocol';

/** A sender field per dialect, computed once per member. */
export type SenderStamp = Readonly<Record<Dialect, string>>;

/** The stamp for `id`: `A` and `{"id":"A"}`. */
export function senderStamp(id: string): SenderStamp {
  return { bare: senderField(id, 'bare'), json: senderField(id, 'json') };
}

/** One message with the sender field to be stamped in each recipient's dialect. */
export class Frame {
  private bare: string | undefined = undefined;
  private json: string | undefined = undefined;

  constructor(
    readonly text: string,
    readonly header: Header,
    readonly sender: SenderStamp,
  ) {}

  /** The text a recipient speaking `dialect` receives. */
  in(dialect: Dialect): string {
    if (dialect === 'bare')
      return (this.bare ??= replaceSender(this.text, this.header, this.sender.bare));
    return (this.json ??= replaceSender(this.text, this.header, this.sender.json));
  }

  /** The server's `/leave` for a member that is gone, with why (docs/protocol.md §4.2 step 8). */
  static leave(id: string, stamp: SenderStamp, reason: LeaveReason): Frame {
    const text = leaveMessage(id, 'bare', reason);
    return new Frame(text, parseHeader(text), stamp);
  }
}
