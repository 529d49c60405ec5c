/** The servers under test, each in its own process, with CPU and memory read from /proc. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Endpoint } from './load.ts';

/** Which server to run. */
export type ServerKind = 'switchyard' | 'raw' | 'socket.io';

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

function entryOf(kind: ServerKind): string {
  if (kind === 'raw') return fileURLToPath(new URL('./raw-relay.js', import.meta.url));
  if (kind === 'socket.io') return fileURLToPath(new URL('./socketio-relay.js', import.meta.url));
  const serverPackage = fileURLToPath(import.meta.resolve('@switchyard/server/package.json'));
  return fileURLToPath(new URL('./dist/main.js', `file://${serverPackage}`));
}

/** Options for a server under test. */
export interface SpawnOptions {
  /** Directory for `node --cpu-prof` output (Switchyard only). */
  readonly cpuProfileDir?: string;
  /** Extra node flags for the server process (e.g. `--trace-gc`). */
  readonly nodeArgs?: readonly string[];
  /** Extra arguments: `switchyard` flags (e.g. `['--jwt-secret', …]`), the socket.io relay's Redis URL. */
  readonly serverArgs?: readonly string[];
}

/** Starts a server on a free loopback port and resolves once it listens. */
export function spawnServer(kind: ServerKind, options: SpawnOptions = {}): Promise<ServerProcess> {
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
          ...(options.serverArgs ?? []),
        ];
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
        const url =
          kind === 'socket.io'
            ? `http://127.0.0.1:${parsed.port}`
            : `ws://127.0.0.1:${parsed.port}/`;
        resolve({
          kind,
          label: kind,
          pid,
          url,
          urls: [url],
          protocol: kind === 'socket.io' ? 'socket.io' : 'ws',
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
