/** The servers under test, each in its own process, with CPU and memory read from /proc. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startMosquitto, type Mosquitto } from '@switchyard/test-kit';
import type { Endpoint, Protocol } from './load.ts';

/**
 * Which server to run: Switchyard, or a baseline: the raw relay on `ws` (`raw`) or on SSE + POST
 * (`raw-sse`), the socket.io relay, signalhub, or Mosquitto alone (the MQTT floor).
 */
export type ServerKind = 'switchyard' | 'raw' | 'raw-sse' | 'socket.io' | 'signalhub' | 'mosquitto';

/** Each baseline's entry beside this file (Mosquitto is not a node process) and the protocol it speaks; Switchyard speaks the one it is asked to. */
const BASELINES: Record<
  Exclude<ServerKind, 'switchyard'>,
  { entry?: string; protocol: Protocol }
> = {
  raw: { entry: './raw-relay.js', protocol: 'ws' },
  'raw-sse': { entry: './raw-sse-relay.js', protocol: 'sse' },
  'socket.io': { entry: './socketio-relay.js', protocol: 'socket.io' },
  signalhub: { entry: './signalhub-server.js', protocol: 'signalhub' },
  mosquitto: { protocol: 'mqtt-direct' },
};

/** Where a client of `protocol` connects on a server at `port`. */
function urlOf(protocol: Protocol, port: number): string {
  const base = `127.0.0.1:${port}`;
  if (protocol === 'ws') return `ws://${base}/`;
  if (protocol === 'sse') return `http://${base}/sse`;
  if (protocol === 'mqtt' || protocol === 'mqtt-direct') return `mqtt://${base}`;
  return `http://${base}`;
}

/** A server under test: one process, or a cluster of them (`apps/bench/src/cluster.ts`). */
export interface ServerProcess extends Endpoint {
  readonly kind: ServerKind;
  /** How results name it: the kind, and the node count of a cluster. */
  readonly label: string;
  readonly pid: number;
  readonly url: string;
  /** User + system CPU seconds the process has used so far. */
  cpuSeconds(): number;
  /** CPU seconds of the bus a cluster runs on (its Redis), reported beside the servers'. */
  busCpuSeconds?(): number;
  /** Resident set size in bytes. */
  rssBytes(): number;
  stop(): Promise<void>;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** Reads utime + stime (fields 14 and 15 of /proc/<pid>/stat) in seconds. */
export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name may contain spaces: fields are counted after its closing parenthesis
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

/** VmRSS of a process in bytes. */
export function rssBytesOf(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

function entryOf(kind: Exclude<ServerKind, 'mosquitto'>): string {
  if (kind !== 'switchyard') return fileURLToPath(new URL(BASELINES[kind].entry!, import.meta.url));
  const serverPackage = fileURLToPath(import.meta.resolve('@switchyard/server/package.json'));
  return fileURLToPath(new URL('./dist/main.js', `file://${serverPackage}`));
}

/** Options for a server under test. */
export interface SpawnOptions {
  /** Directory for `node --cpu-prof` output (Switchyard only). */
  readonly cpuProfileDir?: string;
  /** Extra node flags for the server process (e.g. `--trace-gc`). */
  readonly nodeArgs?: readonly string[];
  /** The protocol Switchyard serves its clients on (its only transport); default `ws`. */
  readonly protocol?: Extract<Protocol, 'ws' | 'socket.io' | 'sse' | 'mqtt'>;
  /** Extra arguments: `switchyard` flags (e.g. `['--jwt-secret', …]`), the socket.io relay's Redis URL. */
  readonly serverArgs?: readonly string[];
}

/** Starts a server on a free loopback port and resolves once it listens. */
export async function spawnServer(
  kind: ServerKind,
  options: SpawnOptions = {},
): Promise<ServerProcess> {
  if (kind === 'mosquitto') return brokerProcess(await startMosquitto({ quiet: true }));
  if (kind !== 'switchyard' || options.protocol !== 'mqtt') return spawnNode(kind, options);
  // Switchyard on MQTT is two processes: the broker the devices talk to, and the bridge
  const broker = brokerProcess(await startMosquitto({ quiet: true }));
  const bridge = await spawnNode(kind, {
    ...options,
    serverArgs: ['--mqtt', broker.url, ...(options.serverArgs ?? [])],
  });
  return {
    ...bridge,
    url: broker.url,
    urls: [broker.url],
    cpuSeconds: () => bridge.cpuSeconds() + broker.cpuSeconds(),
    rssBytes: () => bridge.rssBytes() + broker.rssBytes(),
    stop: async () => {
      await bridge.stop();
      await broker.stop();
    },
  };
}

/** A private Mosquitto (quiet, on a free port) seen as a server under test. */
function brokerProcess(broker: Mosquitto): ServerProcess {
  const pid = broker.pid!;
  return {
    kind: 'mosquitto',
    label: 'mosquitto',
    pid,
    url: broker.url,
    urls: [broker.url],
    protocol: 'mqtt-direct',
    cpuSeconds: () => cpuSecondsOf(pid),
    rssBytes: () => rssBytesOf(pid),
    stop: async () => {
      await broker[Symbol.asyncDispose]();
    },
  };
}

function spawnNode(
  kind: Exclude<ServerKind, 'mosquitto'>,
  options: SpawnOptions,
): Promise<ServerProcess> {
  const nodeArgs = [
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    ...(options.nodeArgs ?? []),
  ];
  const args =
    kind !== 'switchyard'
      ? [entryOf(kind), '0', ...(options.serverArgs ?? [])]
      : // the bench measures routing, so the per-connection rate limit is off (it would cap every sender at 100/s)
        [
          entryOf(kind),
          ...['--port', '0', '--log-level', 'info', '--rate-limit', '0'],
          ...['--transports', options.protocol ?? 'ws', '--mqtt', 'off'],
          ...(options.serverArgs ?? []),
        ];
  const protocol = kind === 'switchyard' ? (options.protocol ?? 'ws') : BASELINES[kind].protocol;
  const child: ChildProcess = spawn(process.execPath, [...nodeArgs, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buffer = '';
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n')) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        let parsed: { port?: unknown };
        try {
          parsed = JSON.parse(line) as { port?: unknown };
        } catch {
          continue;
        }
        if (typeof parsed.port !== 'number') continue;
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        const pid = child.pid!;
        const url = urlOf(protocol, parsed.port);
        resolve({
          kind,
          label: kind,
          pid,
          url,
          urls: [url],
          protocol,
          cpuSeconds: () => cpuSecondsOf(pid),
          rssBytes: () => rssBytesOf(pid),
          stop: () =>
            new Promise<void>((done) => {
              if (child.exitCode !== null) return done();
              child.once('exit', () => done());
              child.kill('SIGTERM');
              setTimeout(() => child.kill('SIGKILL'), 5000).unref();
            }),
        });
      }
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) =>
      reject(new Error(`${kind} server exited with ${code} before listening`)),
    );
  });
}
