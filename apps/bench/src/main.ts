#!/usr/bin/env node
/**
 * `npm run bench`: runs every scenario against the raw ws relay and against Switchyard, each in a
 * fresh server process, and prints both with their ratio. JSON lines go to `--out`.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { Command, Option } from 'commander';
import { broadcast, churn, directed, idle, type Result } from './scenarios.ts';
import { spawnServer, type ServerKind, type ServerProcess } from './server-process.ts';
import { printRatios, printTable } from './report.ts';
import { runClusterBench } from './cluster-bench.ts';

interface Options {
  scenarios: string[];
  duration: number;
  quick: boolean;
  out: string;
  profile?: string;
  nodeArgs?: string;
  cluster: boolean;
}

const program = new Command('switchyard-bench')
  .description('Switchyard versus a raw ws relay, same machine, same run.')
  .addOption(
    new Option('--scenarios <list>', 'comma-separated: directed, rate, broadcast, churn, idle')
      .default(['directed', 'rate', 'broadcast', 'churn', 'idle'])
      .argParser((value) => value.split(',').map((s) => s.trim())),
  )
  .addOption(
    new Option('--duration <seconds>', 'measured window per run').default(5).argParser(Number),
  )
  .option('--quick', 'small sizes and 0.3 s windows (a smoke run)', false)
  .option(
    '--out <file>',
    'JSON lines output',
    `bench-results/${new Date().toISOString().replace(/[:.]/g, '-')}.jsonl`,
  )
  .option('--profile <dir>', 'run Switchyard under node --cpu-prof, writing profiles to <dir>')
  .option('--node-args <flags>', 'extra node flags for both servers, e.g. "--trace-gc"')
  .option(
    '--cluster',
    'the cluster run instead: 1, 2 and 3 switchyard nodes and socket.io on its Redis adapter',
    false,
  );
program.parse();
const options = program.opts<Options>();
// --quick is a smoke run: every scenario, windows too short to mean anything
const durationMs = (options.quick ? 0.3 : options.duration) * 1000;
mkdirSync(dirname(options.out), { recursive: true });
const environment = {
  node: process.version,
  cpus: `${cpus().length} × ${cpus()[0]?.model ?? 'unknown'}`,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  startedAt: new Date().toISOString(),
};
appendFileSync(options.out, `${JSON.stringify({ type: 'environment', ...environment })}\n`);
console.log(
  `node ${environment.node}, ${environment.cpus}, ${environment.memoryGiB} GiB; results → ${options.out}`,
);
if (options.cluster) {
  const lost = await runClusterBench({ durationMs, quick: options.quick, out: options.out });
  if (lost > 0) {
    console.error(`\n${lost} messages lost or duplicated`);
    process.exitCode = 1;
  }
} else await runRelayBench();

/** Switchyard against the raw ws relay, scenario by scenario. */
async function runRelayBench(): Promise<void> {
  type Run = (server: ServerProcess) => Promise<Result>;
  /** A scenario; `rounds` > 1 alternates the servers and keeps each one's median run. */
  const runs: [name: string, run: Run, rounds?: number][] = [];
  const want = (name: string) => options.scenarios.includes(name);
  if (want('directed'))
    runs.push(['directed', (s) => directed(s, { durationMs, pairs: options.quick ? 10 : 50 })]);
  // a sub-millisecond p99 on two shared cores is noisy: three alternating rounds, median run each
  if (want('rate')) {
    runs.push([
      'rate',
      (s) => directed(s, { durationMs, pairs: 50, rate: 2000 }),
      options.quick ? 1 : 3,
    ]);
  }
  if (want('broadcast')) {
    for (const members of options.quick ? [10, 50] : [10, 50, 200]) {
      runs.push([`broadcast/${members}`, (s) => broadcast(s, { durationMs, members })]);
    }
  }
  if (want('churn')) runs.push(['churn', (s) => churn(s, { durationMs, workers: 16 })]);
  if (want('idle')) {
    for (const connections of options.quick ? [500, 2000] : [2000, 10_000]) {
      runs.push([
        `idle/${connections}`,
        (s) => idle(s, { connections, ...(options.quick && { settleMs: 200 }) }),
      ]);
    }
  }

  console.log(
    `switchyard bench: ${runs.length} scenarios × 2 servers, ${durationMs / 1000} s windows\n`,
  );

  type Side = Extract<ServerKind, 'raw' | 'switchyard'>;

  async function measureOnce(name: string, kind: Side, run: Run): Promise<Result> {
    const server = await spawnServer(kind, {
      ...(kind === 'switchyard' && options.profile && { cpuProfileDir: options.profile }),
      ...(options.nodeArgs && { nodeArgs: options.nodeArgs.split(' ').filter(Boolean) }),
    });
    process.stdout.write(`  ${name.padEnd(16)} ${kind.padEnd(10)} … `);
    try {
      const outcome = await run(server);
      appendFileSync(options.out, `${JSON.stringify({ type: 'result', ...outcome })}\n`);
      process.stdout.write(
        `${Math.round(outcome.perSecond)}/s, p99 ${outcome.p99Ms.toFixed(2)} ms, lost ${outcome.lost}\n`,
      );
      return outcome;
    } finally {
      await server.stop();
    }
  }

  const median = (items: Result[]) =>
    [...items].sort((a, b) => a.p99Ms - b.p99Ms)[Math.floor(items.length / 2)]!;

  const results: Result[] = [];
  for (const [name, run, rounds = 1] of runs) {
    const byKind: Record<Side, Result[]> = { raw: [], switchyard: [] };
    for (let round = 0; round < rounds; round++) {
      for (const kind of ['raw', 'switchyard'] as Side[])
        byKind[kind].push(await measureOnce(name, kind, run));
    }
    for (const kind of ['raw', 'switchyard'] as Side[]) {
      const chosen = median(byKind[kind]);
      // losses count from every round, not only the median one
      const lost = byKind[kind].reduce((sum, r) => sum + r.lost, 0);
      const duplicated = byKind[kind].reduce((sum, r) => sum + r.duplicated, 0);
      results.push({ ...chosen, lost, duplicated });
    }
  }
  console.log('');
  printTable(results);
  console.log('');
  const ratios = printRatios(results);
  appendFileSync(options.out, `${JSON.stringify({ type: 'ratios', ratios })}\n`);
  const lost = results.reduce((sum, r) => sum + r.lost + r.duplicated, 0);
  if (lost > 0) {
    console.error(`\n${lost} messages lost or duplicated`);
    process.exitCode = 1;
  }
}
