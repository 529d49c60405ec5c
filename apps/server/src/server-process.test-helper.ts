/** The built `switchyard` binary in a child process, for tests that need a real server process. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SWITCHYARD_MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

/** A running server process. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** Every JSON log line so far. */
  readonly lines: Record<string, unknown>[];
  /** Its resident set size now, from /proc. */
  rssBytes(): number;
}

const running = new Set<ChildProcess>();

/**
 * Runs the binary on a free port (MQTT off unless `args` asks: bridging to the shared Mosquitto
 * would leave sessions on it) and resolves at its listening log line.
 */
export function runSwitchyard(
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<ServerProcess> {
  const child = spawn(
    process.execPath,
    [SWITCHYARD_MAIN, '--port', '0', '--mqtt', 'off', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  running.add(child);
  child.once('exit', () => running.delete(child));
  const lines: Record<string, unknown>[] = [];
  return new Promise((resolve, reject) => {
    let buffer = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString();
      let newline: number;
      while ((newline = buffer.indexOf('\n')) !== -1) {
        const line = JSON.parse(buffer.slice(0, newline)) as Record<string, unknown>;
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        if (line['msg'] === 'switchyard listening')
          resolve({
            child,
            port: line['port'] as number,
            lines,
            rssBytes: () => rssOf(child.pid!),
          });
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`switchyard exited with ${code} before listening`)),
    );
  });
}

/** Kills (SIGKILL) every server process these helpers started and that still runs. */
export function killServers(): void {
  for (const child of running) if (child.exitCode === null) child.kill('SIGKILL');
}

function rssOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kib ?? 0) * 1024;
}
