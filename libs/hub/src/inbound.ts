/**
 * The inbound pipeline (docs/protocol.md §4.2), in order: size → `/` → rate → announce →
 * membership → sender → route. Routing reads only the header; payloads pass through as text.
 * Announces and token checks run one at a time per connection; what arrives meanwhile waits in a
 * bounded backlog, so each connection's messages keep their order.
 */
import { fitsInBytes, parseHeader, stringifyJson, type Header } from '@switchyard/protocol';
import { admitRate, rateError } from './admission.ts';
import { parseAnnounce } from './announce.ts';
import type { HubCore } from './core.ts';
import { checkDirected } from './directed.ts';
import { Frame } from './frame.ts';
import { join } from './join.ts';
import type { Connection, Member } from './model.ts';
import { checkSender } from './sender-check.ts';

const ANNOUNCE = '/announce';
const SLASH = 0x2f;

/** Handles every message a connection sends. */
export class Inbound {
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly core: HubCore) {}

  /** One text message from `connection`. */
  handle(connection: Connection, message: string): void {
    if (connection.state === 'closed') return;
    const { outbound, options, counters } = this.core;
    if (connection.backlog) {
      if (connection.backlog.length < options.backlogLimit) connection.backlog.push(message);
      else this.backlogFull(connection);
      return;
    }
    counters.messagesIn += 1;
    // 1. size
    if (!fitsInBytes(message, options.maxFrameBytes)) {
      const limit = options.maxFrameBytes;
      return outbound.error(
        connection,
        'frame-too-large',
        `messages are limited to ${limit} bytes`,
        {
          limit,
        },
      );
    }
    // 2. a command
    if (message.charCodeAt(0) !== SLASH)
      return outbound.error(connection, 'not-a-command', 'a message must start with a /command');
    // 3. rate
    if (connection.limiter && !admitRate(this.core, connection, message.length)) return;

    const header = parseHeader(message);
    const command = header.command;
    // 4. announce
    if (command === ANNOUNCE) return this.announce(connection, message, header);
    if (command === '/error' || command === '/roominfo')
      return outbound.error(connection, 'malformed', `${command} is sent by servers only`);
    // 5. membership
    const member = connection.member;
    if (connection.state !== 'member' || !member)
      return outbound.error(connection, 'not-announced', 'announce into a room first');
    if (command === '/to' && header.innerCommand === undefined)
      return outbound.error(
        connection,
        'malformed',
        '/to needs a target, a command and a sender: /to|<target>|<command>|<sender>',
      );
    // 6. sender
    const verdict = checkSender(header.sender, command, member.id, member.stamp);
    if (!verdict.ok) return outbound.error(connection, verdict.code, verdict.reason);
    const token = verdict.token;
    // a per-message token (§4.7) is checked here; the sender stamp strips it from what is relayed
    const credentials = this.core.credentials;
    if (token !== undefined && credentials) {
      const decision = credentials.message(connection, token);
      if (decision === false) return;
      if (decision !== true) {
        const routeIfAdmitted = (admitted: boolean) => {
          if (admitted && connection.state === 'member' && connection.member === member)
            this.route(connection, member, message, header);
        };
        return this.hold(connection, decision.then(routeIfAdmitted));
      }
    }
    this.route(connection, member, message, header);
  }

  /** Steps 7–9 for a message whose sender checked out. */
  private route(connection: Connection, member: Member, message: string, header: Header): void {
    const { outbound } = this.core;
    const command = header.command;
    // 7. directed
    if (command === '/to') {
      const verdict = checkDirected(message, header, member.id);
      if (!verdict.ok) return outbound.error(connection, verdict.code, verdict.reason);
      const target = this.core.identity.get(header.target!);
      if (!target || target.room !== member.room)
        return outbound.error(
          connection,
          'unknown-target',
          `no peer ${stringifyJson(header.target)} in this room`,
          { target: header.target },
        );
      return outbound.deliver(target, new Frame(verdict.text, verdict.header, member.stamp));
    }
    // 8. a /leave ends the membership; the room gets the hub's own /leave, so its payload
    // cannot name another peer
    if (command === '/leave') return this.core.presence.forget(member, 'leave', true);
    // 9. everything else goes to the room
    outbound.broadcast(member.room, member, new Frame(message, header, member.stamp));
  }

  /**
   * A message past the backlog of a pending announce or token check is dropped, counted, charged to the rate
   * limit (so a flood still closes as abusive) and answered at most once a second.
   */
  private backlogFull(connection: Connection): void {
    const { counters, options } = this.core;
    counters.messagesIn += 1;
    counters.backlogOverflow += 1;
    if (connection.limiter && !admitRate(this.core, connection)) return;
    const now = this.core.services.clock.now();
    rateError(
      this.core,
      connection,
      now,
      'too many messages while an announce or a token check is pending',
      () => options.livenessTimeoutMs,
    );
  }

  /** Input the transport could not read as text: refused like any bad message, rate included. */
  unreadable(connection: Connection, what: string): void {
    if (connection.state === 'closed') return;
    this.core.counters.messagesIn += 1;
    if (connection.limiter && !admitRate(this.core, connection)) return;
    this.core.outbound.error(connection, 'malformed', `${what} are not accepted: send UTF-8 text`);
  }

  /** Resolves once no announce is in flight (auth hooks and liveness probes have answered). */
  idle(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private announce(connection: Connection, message: string, header: Header): void {
    const verdict = parseAnnounce(message, header);
    if (!verdict.ok)
      return this.core.outbound.error(connection, 'invalid-announce', verdict.reason);
    this.hold(
      connection,
      join(this.core, connection, verdict.announce).catch((error: unknown) => {
        this.core.services.log('warn', 'announce failed', { error: String(error) });
        this.core.outbound.error(connection, 'malformed', 'announce could not be processed');
      }),
    );
  }

  /**
   * Holds the connection's later messages in its backlog until `work` (an announce, a token
   * check) settles, then replays them: per-connection FIFO across asynchronous decisions.
   */
  hold(connection: Connection, work: Promise<unknown>): void {
    connection.backlog = [];
    this.inFlight += 1;
    work
      .catch((error: unknown) => {
        this.core.services.log('warn', 'held work failed', { error: String(error) });
      })
      .finally(() => {
        this.replayBacklog(connection);
        if (--this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
      });
  }

  private replayBacklog(connection: Connection): void {
    const backlog = connection.backlog ?? [];
    connection.backlog = undefined;
    for (let i = 0; i < backlog.length; i++) {
      this.handle(connection, backlog[i]!);
      if (connection.backlog) {
        // another announce started: keep the rest in order behind it
        (connection.backlog as string[]).push(...backlog.slice(i + 1));
        return;
      }
    }
  }
}
