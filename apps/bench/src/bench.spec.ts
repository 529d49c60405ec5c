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
  it('runs every scenario against both servers, loses nothing, and writes JSON lines', async () => {
    const out = join(dir, 'results.jsonl');
    const child = spawn(process.execPath, [main, '--quick', '--out', out], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toContain('switchyard / raw');
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { type: string; scenario?: string; server?: string; lost?: number },
      );
    expect(lines[0]!.type).toBe('environment');
    const results = lines.filter((line) => line.type === 'result');
    const scenarios = new Set(results.map((r) => r.scenario));
    expect([...scenarios].sort()).toEqual(
      [
        'broadcast/10',
        'broadcast/50',
        'churn',
        'directed',
        'directed@2000/s',
        'idle/2000',
        'idle/500',
      ].sort(),
    );
    expect(results.every((r) => r.lost === 0)).toBe(true);
    expect(new Set(results.map((r) => r.server))).toEqual(new Set(['raw', 'switchyard']));
  }, 240_000);
});
