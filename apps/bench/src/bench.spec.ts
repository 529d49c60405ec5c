import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('npm run bench (smoke, --quick)', () => {
  it('runs every scenario on every transport against its baselines, loses nothing, and writes JSON lines', async () => {
    const out = join(dir, 'results.jsonl');
    const { code, stdout, stderr } = await run(['--quick', '--out', out]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain('switchyard ÷ baseline');
    const lines = readLines(out);
    expect(lines[0]!.type).toBe('environment');
    const results = lines.filter((line) => line.type === 'result');
    const runs = (transport: string) =>
      new Set(
        results.filter((r) => r.transport === transport).map((r) => `${r.scenario} ${r.server}`),
      );
    const grid = (scenarios: string[], servers: string[]) =>
      new Set(scenarios.flatMap((scenario) => servers.map((server) => `${scenario} ${server}`)));
    const common = ['directed', 'directed@2000/s', 'churn', 'idle/500'];
    expect(runs('ws')).toEqual(
      grid([...common, 'broadcast/10', 'broadcast/50'], ['raw', 'switchyard']),
    );
    expect(runs('socket.io')).toEqual(
      grid([...common, 'broadcast/10'], ['socket.io', 'switchyard']),
    );
    expect(runs('sse')).toEqual(
      grid([...common, 'broadcast/10'], ['raw-sse', 'signalhub', 'switchyard']),
    );
    expect(runs('mqtt')).toEqual(grid([...common, 'broadcast/10'], ['mosquitto', 'switchyard']));
    expect(results.every((r) => r.lost === 0 && r.duplicated === 0)).toBe(true);
    const ratios = lines.find((line) => line.type === 'ratios') as unknown as {
      ratios: Array<{ transport: string; baseline: string }>;
    };
    expect(new Set(ratios.ratios.map((r) => `${r.transport} ${r.baseline}`))).toEqual(
      new Set([
        'ws raw',
        'ws –',
        'socket.io socket.io',
        'socket.io –',
        'sse raw-sse',
        'sse signalhub',
        'sse –',
        'mqtt mosquitto',
        'mqtt –',
      ]),
    );
  }, 300_000);

  it('--cluster runs 1, 2 and 3 nodes, the raw relay on Redis and the socket.io Redis-adapter relay, losing nothing', async () => {
    const out = join(dir, 'cluster.jsonl');
    const { code, stdout, stderr } = await run(['--cluster', '--quick', '--out', out]);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain('socket.io redis-adapter');
    const results = readLines(out).filter((line) => line.type === 'result');
    expect(new Set(results.map((r) => r.server))).toEqual(
      new Set([
        'switchyard',
        'switchyard×2',
        'switchyard×3',
        'raw',
        'raw×2',
        'raw×3',
        'socket.io×2',
        'socket.io×3',
        'redis pub/sub',
      ]),
    );
    expect(new Set(results.map((r) => r.scenario))).toEqual(
      new Set(['directed', 'directed@2000/s', 'broadcast/10']),
    );
    expect(results.every((r) => r.lost === 0)).toBe(true);
    expect(stdout).toContain('raw relay ×2 on Redis');
  }, 240_000);
});

async function run(args: readonly string[]) {
  const child = spawn(process.execPath, [main, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

function readLines(file: string) {
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map(
      (line) =>
        JSON.parse(line) as {
          type: string;
          scenario?: string;
          server?: string;
          transport?: string;
          lost?: number;
          duplicated?: number;
        },
    );
}
