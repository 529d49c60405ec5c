/**
 * Shared plumbing of the interop suites: a Switchyard server, original rtc.io clients, child
 * processes, and deadline-bound waits on the originals' (untyped, mbus-based) events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import type { Hub, HubEvents } from '@switchyard/hub';
import { waitUntil } from '@switchyard/testing';
import { startServer, type RunningServer } from '../server.ts';
import { originalSignaller, type OriginalSignaller } from '../original-client.test-helper.ts';

/** An original rtc-signaller 6.x, with the parts the ported cases need beyond the base helper. */
export interface Original extends OriginalSignaller {
  /** `undefined` for unknown peers, else whether our id sorts first. */
  isMaster(id: string): boolean | undefined;
  close(): void;
}

/** The original client's peer record (`{id, roleIdx, data}`, docs/conformance.md §5.3). */
export interface OriginalPeerRecord {
  readonly id: string;
  readonly roleIdx: number;
  readonly data: Record<string, unknown>;
}

/** Narrows an event argument to the original peer-record shape. */
export function asRecord(value: unknown): OriginalPeerRecord {
  if (
    value === null ||
    typeof value !== 'object' ||
    typeof (value as { id?: unknown }).id !== 'string' ||
    typeof (value as { data?: unknown }).data !== 'object'
  ) {
    throw new Error(`not a peer record: ${JSON.stringify(value)}`);
  }
  return value as OriginalPeerRecord;
}

/** Narrows an event argument to a plain object. */
export function asObject(value: unknown): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`not an object: ${JSON.stringify(value)}`);
  return value as Record<string, unknown>;
}

/** The original's record for `id`, if it knows that peer. */
export function peerOf(original: Original, id: string): OriginalPeerRecord | undefined {
  const record = original.peers.get(id);
  return record === undefined ? undefined : asRecord(record);
}

/**
 * Waits until every original knows every other one. `/roominfo` reaches an announcer before its
 * announce reaches the room, so a resolved join does not yet mean the others know the newcomer.
 * Tests also settle before clients leave: an original that receives an announce after `leave()`
 * auto-replies, and that send reconnects it (its ready state already reads "disconnected") and
 * re-announces it into the room it just left.
 */
export function knowEachOther(originals: readonly Original[], timeoutMs = 5000): Promise<true> {
  return waitUntil(
    () =>
      originals.every((a) => originals.every((b) => a === b || a.peers.get(b.id) !== undefined)),
    'the originals to know each other',
    timeoutMs,
  );
}

/** A room name nobody else uses (the originals' tests use uuid v4). */
export const newRoom = (): string => randomUUID();

/**
 * Resolves with the arguments of the original's next `event` that passes `filter`, or rejects
 * after `timeoutMs`.
 */
export function originalEvent(
  source: Pick<OriginalSignaller, 'on' | 'removeListener'>,
  event: string,
  filter: (...args: unknown[]) => boolean = () => true,
  timeoutMs = 5000,
): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    const listener = (...args: unknown[]) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      source.removeListener(event, listener);
      resolve(args);
    };
    const timer = setTimeout(() => {
      source.removeListener(event, listener);
      reject(new Error(`timed out after ${timeoutMs} ms waiting for original event ${event}`));
    }, timeoutMs);
    source.on(event, listener);
  });
}

/** Every emission of `event` from now on (argument lists), until `stop()`. */
export function recordEvents(
  source: Pick<OriginalSignaller, 'on' | 'removeListener'>,
  event: string,
): { readonly calls: unknown[][]; stop(): void } {
  const calls: unknown[][] = [];
  const listener = (...args: unknown[]) => void calls.push(args);
  source.on(event, listener);
  return { calls, stop: () => void source.removeListener(event, listener) };
}

/** Resolves with the arguments of the hub's next `event` that passes `filter`, with a deadline. */
export function hubEvent<E extends keyof HubEvents & string>(
  hub: Pick<Hub, 'on'>,
  event: E,
  filter: (...args: Parameters<HubEvents[E]>) => boolean = () => true,
  timeoutMs = 5000,
): Promise<Parameters<HubEvents[E]>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for hub event ${event}`));
    }, timeoutMs);
    const off = hub.on(event, ((...args: Parameters<HubEvents[E]>) => {
      if (!filter(...args)) return;
      clearTimeout(timer);
      off();
      resolve(args);
    }) as HubEvents[E]);
  });
}

/** Every emission of the hub's `event` from now on, until `stop()`. */
export function recordHubEvents<E extends keyof HubEvents & string>(
  hub: Pick<Hub, 'on'>,
  event: E,
): { readonly calls: Parameters<HubEvents[E]>[]; stop(): void } {
  const calls: Parameters<HubEvents[E]>[] = [];
  const stop = hub.on(
    event,
    ((...args: Parameters<HubEvents[E]>) => void calls.push(args)) as HubEvents[E],
  );
  return { calls, stop };
}

/** What an original child process printed once it was in its room. */
export interface ChildPeer {
  readonly child: ChildProcess;
  readonly id: string;
  readonly memberCount: number;
}

/** A fixture script under ./fixtures, run with this Node binary. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/**
 * Spawns a fixture with `args` and resolves with the child and the JSON of its first stdout line.
 * Its stdin is a pipe: the fixtures exit when it ends, so none outlives the test process.
 */
export async function spawnFixture<T>(
  name: string,
  args: readonly string[],
  started: (child: ChildProcess) => void,
  timeoutMs = 10_000,
): Promise<{ child: ChildProcess; first: T }> {
  const child = spawn(process.execPath, [fixturePath(name), ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  started(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const line = await waitUntil(
    () => {
      if (child.exitCode !== null) throw new Error(`${name} exited early: ${stderr}`);
      const newline = stdout.indexOf('\n');
      return newline === -1 ? undefined : stdout.slice(0, newline);
    },
    `${name} to start`,
    timeoutMs,
  );
  return { child, first: JSON.parse(line) as T };
}

/** Kills a child by its PID unless it has already exited, and waits for the exit. */
export async function killChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Owns everything a test starts, so one `dispose()` in afterEach/afterAll ends it all: child
 * processes still running are killed by their PID, original clients leave (so none reconnects to
 * a closing server), then the server closes.
 */
export interface Fleet {
  server(graceMs?: number): Promise<RunningServer>;
  /** An original client on the fleet's server (`reconnect: false` unless overridden). */
  original(options?: Record<string, unknown>): Original;
  /** An original client in a child process, announced into `room`. */
  child(room: string): Promise<ChildPeer>;
  dispose(): Promise<void>;
}

export function createFleet(): Fleet {
  let running: RunningServer | undefined;
  const originals: Original[] = [];
  const children: ChildProcess[] = [];

  return {
    async server(graceMs = 500) {
      running = await startServer({ port: 0, hub: { graceMs }, logger: pino({ level: 'silent' }) });
      return running;
    },

    original(options = {}) {
      if (!running) throw new Error('start the server first');
      const created = originalSignaller(running.url, options) as Original;
      // a second leave() would open a fresh connection just to say goodbye again: make it idempotent
      const leave = created.leave.bind(created);
      let left = false;
      created.leave = created.close = () => {
        if (left) return;
        left = true;
        leave();
      };
      originals.push(created);
      return created;
    },

    async child(room) {
      if (!running) throw new Error('start the server first');
      const { child, first } = await spawnFixture<{ id: string; memberCount: number }>(
        'original-peer.cjs',
        [running.url, room],
        (spawned) => children.push(spawned),
      );
      return { child, id: first.id, memberCount: first.memberCount };
    },

    async dispose() {
      // children first: their sockets would otherwise hold up the wait for connections below
      for (const child of children.splice(0)) await killChild(child);
      for (const original of originals.splice(0)) original.leave();
      const server = running;
      running = undefined;
      if (server) {
        // let the /leave frames land; a client that never gets there is closed by the server anyway
        await waitUntil(
          () => server.hub.stats().connections === 0,
          'original clients to close',
          3000,
        ).catch(() => undefined);
        await server.close();
      }
    },
  };
}
