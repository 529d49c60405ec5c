/**
 * What the status page shows (`GET /` in a browser, `GET /status.json`, the plain-text `GET /`):
 * counters, per-transport connections, message rates and the largest rooms. Room names and peer
 * ids can be private, so they are shown only to a caller {@link StatusAccess} trusts.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIPv4 } from 'node:net';
import type { Hub, HubStats, MemberSnapshot } from '@switchyard/hub';
import type { HttpServerHalf } from '@switchyard/http';

/** A room as the status document shows it: `name` and member ids only to trusted callers. */
export interface StatusRoom {
  readonly name?: string;
  readonly size: number;
  readonly transports: Readonly<Record<string, number>>;
  readonly members: ReadonlyArray<Omit<MemberSnapshot, 'id'> & { readonly id?: string }>;
}

/** `GET /status.json`. */
export interface StatusDocument {
  readonly version: string;
  readonly auth: string;
  readonly uptimeSeconds: number;
  /** Open connections per transport. */
  readonly transports: Readonly<Record<string, number>>;
  /** Messages per second over the last {@link RATE_WINDOW_MS}. */
  readonly rates: { readonly messagesIn: number; readonly messagesOut: number };
  readonly stats: HubStats;
  /** Whether room names and peer ids are shown to this caller. */
  readonly names: boolean;
  readonly rooms: readonly StatusRoom[];
  readonly moreRooms: number;
}

/** Rates are averaged over this window, sampled once a second. */
export const RATE_WINDOW_MS = 10_000;

interface Sample {
  readonly at: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
}

/** Samples the hub's message counters once a second for {@link StatusDocument.rates}. */
export class RateMeter {
  private readonly samples: Sample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly hub: Hub,
    private readonly now: () => number = Date.now,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), 1000).unref();
  }

  /** Messages per second between the oldest sample in the window and now. */
  rates(): StatusDocument['rates'] {
    const latest = this.read();
    const oldest = this.samples[0];
    const seconds = oldest ? (latest.at - oldest.at) / 1000 : 0;
    if (!oldest || seconds <= 0) return { messagesIn: 0, messagesOut: 0 };
    const rate = (key: 'messagesIn' | 'messagesOut') =>
      Math.round(((latest[key] - oldest[key]) / seconds) * 10) / 10;
    return { messagesIn: rate('messagesIn'), messagesOut: rate('messagesOut') };
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private read(): Sample {
    const { messagesIn, messagesOut } = this.hub.stats();
    return { at: this.now(), messagesIn, messagesOut };
  }

  private sample(): void {
    const sample = this.read();
    this.samples.push(sample);
    while (this.samples.length > 1 && sample.at - this.samples[0]!.at > RATE_WINDOW_MS)
      this.samples.shift();
  }
}

/** Whether a socket address is the machine itself (127.0.0.0/8, ::1, IPv4-mapped loopback). */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  if (address === '::1') return true;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * Whether a Host header names the machine itself: a page on a DNS-rebinding domain that resolves
 * to 127.0.0.1 reaches a loopback socket, but with its own name in Host.
 */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name.toLowerCase() === 'localhost' || isLoopback(name);
}

/**
 * Who may see names. Without an admin token: loopback callers that name a loopback host. With one: only callers that
 * send it (`Authorization: Bearer …`), loopback included, since a reverse proxy on the same host
 * makes every visitor look like loopback.
 */
export class StatusAccess {
  private readonly digest?: Buffer;

  constructor(adminToken?: string) {
    if (adminToken !== undefined) this.digest = sha256(adminToken);
  }

  get tokenRequired(): boolean {
    return this.digest !== undefined;
  }

  trusts(request: IncomingMessage): boolean {
    if (!this.digest)
      return isLoopback(request.socket.remoteAddress) && isLoopbackHost(request.headers.host);
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    // equal-length digests: the comparison takes the same time whatever the guess
    return match !== null && timingSafeEqual(sha256(match[1]!), this.digest);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** What a status document is made from. */
export interface StatusSource {
  readonly hub: Hub;
  readonly halves: readonly HttpServerHalf[];
  readonly version: string;
  readonly auth: string;
  readonly rates: RateMeter;
  readonly access: StatusAccess;
  readonly startedAt: number;
}

/** Open connections per transport (`/healthz`, the status page). */
export function connectionsPerTransport(halves: readonly HttpServerHalf[]): Record<string, number> {
  return Object.fromEntries(halves.map((half) => [half.transport, half.connections]));
}

/** The status document for one caller. */
export function statusDocument(source: StatusSource, request: IncomingMessage): StatusDocument {
  const names = source.access.trusts(request);
  const snapshot = source.hub.snapshot({ maxRooms: 50, maxMembers: 50 });
  return {
    version: source.version,
    auth: source.auth,
    uptimeSeconds: Math.round((Date.now() - source.startedAt) / 1000),
    transports: connectionsPerTransport(source.halves),
    rates: source.rates.rates(),
    stats: source.hub.stats(),
    names,
    rooms: snapshot.rooms.map((room) =>
      names
        ? room
        : {
            size: room.size,
            transports: room.transports,
            members: room.members.map(({ transport, state }) => ({ transport, state })),
          },
    ),
    moreRooms: snapshot.moreRooms,
  };
}

/** The plain-text `GET /` (for curl): what the server runs and a summary of the document. */
export function statusText(document: StatusDocument, served: readonly string[]): string {
  const { stats, rates } = document;
  const lines = [
    `switchyard ${document.version}: rtc-signaller signalling, up ${document.uptimeSeconds} s.`,
    ...served.map((line) => `- ${line}`),
    `- authentication: ${document.auth}`,
    '- GET /healthz, GET /metrics, GET /status.json, GET /demo/ (a mesh call in the browser)',
    '',
    `connections ${stats.connections} (${Object.entries(document.transports)
      .map(([transport, count]) => `${transport} ${count}`)
      .join(', ')})`,
    `rooms ${stats.rooms}, members ${stats.members} (${stats.inGrace} in their grace window)`,
    `messages per second: ${rates.messagesIn} in, ${rates.messagesOut} out`,
  ];
  if (document.names && document.rooms.length > 0) {
    lines.push('', 'largest rooms:');
    for (const room of document.rooms.slice(0, 10))
      lines.push(
        `  ${room.name ?? '?'}: ${room.size} (${Object.entries(room.transports)
          .map(([transport, count]) => `${transport} ${count}`)
          .join(', ')})`,
      );
  }
  return lines.join('\n');
}
